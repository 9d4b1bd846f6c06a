import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeEnrollmentCode, encodeEnrollmentCode } from '@aerie/core'
import { invite, Lab } from './support/agents.ts'
import type { Device } from './support/agents.ts'

// Enrollment codes are one-time, expiring, and only work with the CA they name.
describe('enrollment with a one-time code', () => {
  const lab = new Lab()
  let alice: Device

  beforeAll(async () => { alice = await lab.caHolder('alice') })
  afterAll(async () => { await lab.stopAll() })

  it('a code works once; the second device to use it is refused', async () => {
    const code = await invite(alice, 'dave@example.com')
    const first = await lab.device('dave')
    expect(await first.ok('enroll', code, '--name', 'dave')).toMatch(/enrolled dave .* for dave@example.com/)
    const second = await lab.device('mallory')
    const reuse = await second.cli('enroll', code, '--name', 'mallory')
    expect(reuse.code).toBe(1)
    expect(reuse.stderr).toMatch(/already been used/)
    expect(await second.cli('id')).toMatchObject({ code: 1 })
  })

  it('a wrong code (right CA, unknown secret) is refused', async () => {
    const real = decodeEnrollmentCode(await invite(alice, 'x@example.com'))
    const forged = encodeEnrollmentCode({ secret: randomBytes(16), caFingerprint: real.caFingerprintPrefix.padEnd(64, '0'), addresses: real.addresses })
    const device = await lab.device('guesser')
    const result = await device.cli('enroll', forged)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/not known to the CA/)
  })

  it('an expired code is refused', async () => {
    const code = await invite(alice, 'late@example.com', '--expires', '1s')
    await new Promise(resolve => setTimeout(resolve, 1_500))
    const device = await lab.device('late')
    const result = await device.cli('enroll', code)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/expired/)
  })

  it('a mistyped code is caught before anything is sent', async () => {
    const code = await invite(alice, 'typo@example.com')
    const typo = code.slice(0, -3) + (code.at(-3) === 'a' ? 'b' : 'a') + code.slice(-2)
    const device = await lab.device('typo')
    const result = await device.cli('enroll', typo)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/mistyped/)
  })

  it('enrollment is rate-limited per client address', async () => {
    const real = decodeEnrollmentCode(await invite(alice, 'y@example.com'))
    const device = await lab.device('hammer')
    let limited = false
    for (let i = 0; i < 15 && !limited; i++) {
      const forged = encodeEnrollmentCode({ secret: randomBytes(16), caFingerprint: real.caFingerprintPrefix.padEnd(64, '0'), addresses: real.addresses })
      const result = await device.cli('enroll', forged)
      limited = /too many attempts/.test(result.stderr)
    }
    expect(limited).toBe(true)
  })
})
