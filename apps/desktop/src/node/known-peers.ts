import type { DeviceHome } from './device-home.ts'
import type { DeviceIdentity } from '@aerie/core'

export interface KnownPeer {
  deviceId: string
  deviceName: string
  user: string
  peerId: string
  /** Where we last reached it (our outbound connections only: inbound ports are ephemeral). */
  address?: string
  lastSeen?: string
  /** 'server': the organisation's team server (its certificate says so). */
  role?: 'server'
}

/** Devices this device has met, kept in known-peers.json so status can list them offline. */
export class KnownPeers {
  private readonly home: DeviceHome
  private readonly peers: Map<string, KnownPeer>

  private constructor (home: DeviceHome, peers: KnownPeer[]) {
    this.home = home
    this.peers = new Map(peers.map(p => [p.deviceId, p]))
  }

  static async load (home: DeviceHome): Promise<KnownPeers> {
    const text = await home.read('known-peers.json').catch(() => '[]')
    let peers: KnownPeer[] = []
    try { peers = JSON.parse(text) as KnownPeer[] } catch { peers = [] }
    return new KnownPeers(home, Array.isArray(peers) ? peers : [])
  }

  list (): KnownPeer[] {
    return [...this.peers.values()]
  }

  /** The organisation's team server, once met: new folders are kept in its central copy. */
  teamServer (): KnownPeer | undefined {
    return this.list().find(p => p.role === 'server')
  }

  async remember (peer: KnownPeer): Promise<void> {
    this.peers.set(peer.deviceId, { ...this.peers.get(peer.deviceId), ...peer })
    await this.home.write('known-peers.json', JSON.stringify(this.list(), null, 2) + '\n')
  }

  async seen (identity: DeviceIdentity, remoteAddress?: string, outbound = false): Promise<void> {
    const previous = this.peers.get(identity.deviceId)
    await this.remember({
      deviceId: identity.deviceId,
      deviceName: identity.deviceName,
      user: identity.user,
      peerId: identity.peerId,
      address: outbound ? remoteAddress : previous?.address,
      lastSeen: new Date().toISOString(),
      ...(identity.role === undefined ? {} : { role: identity.role })
    })
  }
}
