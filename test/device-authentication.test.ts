import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import type { Device } from './support/agents.ts'

// Two and three enrolled agents, real processes on 127.0.0.1: they connect only to
// devices of their own organisation and drop a revoked one everywhere.
describe('authenticated links between enrolled devices', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    bob = await lab.enrolled(alice, 'bob')
    await bob.start()
  })
  afterAll(async () => { await lab.stopAll() })

  it('an enrolled device knows the CA holder and connects to it by itself', async () => {
    await waitFor(async () => await bob.connectedTo(alice), 'bob to connect to alice')
    await waitFor(async () => await alice.connectedTo(bob), 'alice to see bob')
    const status = await bob.status()
    expect(status.peers.find(p => p.deviceName === 'alice')?.connected).toBe(true)
  })

  it('id --json names the device, its peer id and its addresses', async () => {
    const id = JSON.parse(await bob.ok('id', '--json')) as { deviceId: string, peerId: string, addresses: string[] }
    expect(id.deviceId).toMatch(/^[a-z2-7]{16}$/)
    expect(id.peerId).toMatch(/^Qm/)
    expect(id.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
  })

  it('a device of another organisation is refused and served nothing', async () => {
    const eve = await lab.caHolder('eve', 'Other Org')
    const result = await eve.cli('peer', 'add', 'whoever', await alice.address())
    expect(result.stdout + result.stderr).toMatch(/not issued by this organisation's CA/)
    expect(await eve.connectedTo(alice)).toBe(false)
    await waitFor(() => /refused connection with .*not issued by this organisation's CA/.test(alice.log), 'alice to log the refusal')
  })

  it('revoking a device drops it everywhere, and the CRL reaches peers that did not revoke it', async () => {
    const carol = await lab.enrolled(alice, 'carol')
    await carol.start()
    await carol.ok('peer', 'add', 'bob', await bob.address())
    await waitFor(async () => await carol.connectedTo(bob) && await carol.connectedTo(alice), 'carol to connect to bob and alice')

    const revoked = await alice.ok('revoke', 'bob')
    expect(revoked).toMatch(/revoked bob/)
    await waitFor(async () => !(await alice.connectedTo(bob)), 'alice to drop bob', 10_000)
    await waitFor(async () => !(await carol.connectedTo(bob)), 'carol to drop bob', 10_000)
    const aliceCrl = (await alice.status()).crlNumber
    expect((await carol.status()).crlNumber).toBe(aliceCrl)

    // And bob cannot come back: every reconnection attempt is refused.
    const retry = await bob.cli('peer', 'add', 'alice', await alice.address())
    expect(retry.stdout + retry.stderr).toMatch(/revoked/)
    expect(await carol.connectedTo(bob)).toBe(false)
    expect((await alice.ok('devices'))).toMatch(/bob.*REVOKED/)
    // Bob learns why, says so, and stops knocking.
    await waitFor(async () => (await bob.status() as unknown as { revoked: boolean }).revoked, 'bob to know it is revoked')
    expect(await bob.ok('status')).toMatch(/REVOKED/)
  })
})
