import { afterAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'

// A person who gets something wrong sees one line that says what to do, and a non-zero exit.
describe('aerie CLI errors', () => {
  const lab = new Lab()
  afterAll(async () => { await lab.stopAll() })

  it('an unknown command prints usage and exits 2', async () => {
    const result = await (await lab.device('x')).cli('frobnicate')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown command "frobnicate"/)
    expect(result.stderr).toMatch(/usage: aerie/)
  })

  it('status without a running agent says how to start one', async () => {
    const result = await (await lab.device('idle')).cli('status')
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/no agent is running .*aerie --home .* run/)
  })

  it('commands on a device that is not set up say so, without a stack trace', async () => {
    const result = await (await lab.device('blank')).cli('id')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/not set up .*aerie ca init.*aerie enroll CODE/)
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/)
  })

  it('CA commands on a device that does not hold the CA are refused', async () => {
    const result = await (await lab.device('plain')).cli('invite', '--user', 'a@example.com')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/does not hold the organisation's CA/)
  })

  it('garbage as an enrollment code is caught as mistyped', async () => {
    const result = await (await lab.device('newbie')).cli('enroll', 'aerie1-not-a-real-code')
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/mistyped/)
  })

  it('a bad flag is a usage error', async () => {
    const result = await (await lab.device('y')).cli('id', '--jsn')
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--jsn/)
  })
})
