import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { TwoHostLan } from './support/netns.ts'
import type { Device } from './support/agents.ts'

// Two enrolled devices on one LAN find each other by mDNS, with no address configured.
// The LAN is two network namespaces made by this test (needs root, as CI has).
describe('LAN discovery', () => {
  const lab = new Lab()
  const lan = new TwoHostLan()
  let alice: Device
  let bob: Device

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    bob = await lab.enrolled(alice, 'bob')
    await alice.stop()
    // Forget how bob met alice: only mDNS may bring them together.
    await writeFile(join(bob.home, 'known-peers.json'), '[]')
    await writeFile(join(bob.home, 'config.json'), JSON.stringify({ deviceName: 'bob', listen: [], peers: [], mdns: true }))
    await lan.create()
    alice.netns = lan.names[0]
    bob.netns = lan.names[1]
  })
  afterAll(async () => {
    await lab.stopAll()
    await lan.destroy()
  })

  it('enrolled devices on one LAN connect without any address configured', async () => {
    await alice.start({}, ['--listen', '/ip4/0.0.0.0/tcp/4001'])
    await bob.start({}, ['--listen', '/ip4/0.0.0.0/tcp/4002'])
    await waitFor(async () => await bob.connectedTo(alice), 'bob to discover and connect to alice', 30_000)
    const peer = (await bob.status()).peers.find(p => p.deviceName === 'alice')
    expect(peer?.connected).toBe(true)
    expect(JSON.stringify(peer)).toContain(lan.addresses[0])
  })
})
