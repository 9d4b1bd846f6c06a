import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCsr, generateDeviceKey, issueDeviceCertificate, unlockCAKey } from '@aerie/core'
import { Lab, PASSPHRASE, waitFor } from './support/agents.ts'
import type { Device } from './support/agents.ts'

// A certificate the CA really issued, but whose validity has ended, opens nothing.
describe('an expired device certificate', () => {
  const lab = new Lab()
  let alice: Device

  beforeAll(async () => { alice = await lab.caHolder('alice') })
  afterAll(async () => { await lab.stopAll() })

  it('is refused by the agent it dials', async () => {
    const old = await lab.device('old')
    const caCertPem = await readFile(join(alice.home, 'ca.crt'), 'utf8')
    const caKey = unlockCAKey(await readFile(join(alice.home, 'ca/ca-key.pem'), 'utf8'), PASSPHRASE)
    const { privateKeyPem } = generateDeviceKey()
    const twoYearsAgo = new Date(Date.now() - 2 * 365 * 86_400_000)
    const issued = issueDeviceCertificate({
      caCertPem, caKey, csrPem: createCsr({ privateKeyPem, deviceName: 'old' }), user: 'old@example.com', deviceName: 'old', validDays: 30, now: twoYearsAgo
    })
    await mkdir(old.home, { recursive: true, mode: 0o700 })
    await writeFile(join(old.home, 'device-key.pem'), privateKeyPem, { mode: 0o600 })
    await writeFile(join(old.home, 'device.crt'), issued.certPem)
    await writeFile(join(old.home, 'ca.crt'), caCertPem)
    await writeFile(join(old.home, 'config.json'), JSON.stringify({ deviceName: 'old', listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], mdns: false }))
    await old.start()

    const result = await old.cli('peer', 'add', 'alice', await alice.address())
    expect(result.stdout + result.stderr).toMatch(/expired/)
    expect(await alice.connectedTo(old)).toBe(false)
    await waitFor(() => /refused connection with .*expired/.test(alice.log), 'alice to log the refusal')
  })
})
