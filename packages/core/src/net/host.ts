import { yamux } from '@chainsafe/libp2p-yamux'
import { TypedEventEmitter } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { PeerRefusedError, RevokedDeviceError, UntrustedPeerError } from '../errors.ts'
import { certificateEncrypter } from './certificate-encrypter.ts'
import { isLocalMultiaddr, lanOnlyGater } from './local-address.ts'
import type { EnrollmentIssuer, EnrollmentTicket } from './peer-trust.ts'
import type { TrustStore } from './trust-store.ts'
import type { DeviceIdentity } from '../pki/index.ts'
import type { AbortOptions, Connection, Libp2p, PeerId, PeerInfo, PrivateKey, Stream } from '@libp2p/interface'

/**
 * An Aerie peer on the network: a libp2p host (TCP, Aerie's certificate encrypter,
 * yamux, optional mDNS) that only ever talks to authenticated devices of its
 * organisation, enforces revocation on live connections and passes CRLs on.
 *
 * @example
 * ```ts
 * const host = await createAerieHost({ privateKey, trust, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * const peer = await host.dial('/ip4/127.0.0.1/tcp/4001')
 * console.log(peer.deviceName, peer.user)
 * ```
 */
export const CRL_PROTOCOL = '/aerie/crl/1.0.0'
const MAX_CRL_BYTES = 48 * 1024

export interface AerieHostInit {
  privateKey: PrivateKey
  trust: TrustStore
  /** Multiaddrs to listen on, e.g. '/ip4/0.0.0.0/tcp/4001'. */
  listen: string[]
  issuer?: EnrollmentIssuer
  enrollment?: EnrollmentTicket
  /** LAN discovery by multicast DNS; discovered peers are dialled. */
  mdns?: boolean
  /** One line per security-relevant event (refused handshakes, revocations). */
  log?(line: string): void
  /** LAN-only mode: no connection to or from a non-local address (see local-address.ts). */
  lanOnly?: boolean
}

export interface ConnectedDevice {
  identity: DeviceIdentity
  peerId: string
  remoteAddress: string
  direction: 'inbound' | 'outbound'
  connectedAt: number
}

export interface AerieHostEvents {
  'device:connect': CustomEvent<ConnectedDevice>
  /** A peer told us that this device's certificate has been revoked. */
  'self:revoked': CustomEvent<{ remoteAddress: string }>
  'device:disconnect': CustomEvent<{ peerId: string, identity?: DeviceIdentity }>
}

export interface AerieHost extends TypedEventEmitter<AerieHostEvents> {
  readonly libp2p: Libp2p
  readonly peerId: PeerId
  /** The addresses we listen on, each ending in /p2p/<peerId>. */
  addresses(): string[]
  connectedDevices(): ConnectedDevice[]
  /** The identity of an authenticated peer we have met (connected or not). */
  identityOf(peerId: string): DeviceIdentity | undefined
  /** Dials an address and returns the authenticated device behind it. */
  dial(address: string, options?: AbortOptions): Promise<DeviceIdentity>
  /** Sends our CRL to every connected device. */
  broadcastCrl(): Promise<void>
  /** Turns LAN-only mode on or off now; on closes the connections it would not allow. */
  setLanOnly(on: boolean): void
  readonly lanOnly: boolean
  stop(): Promise<void>
}

export async function createAerieHost (init: AerieHostInit): Promise<AerieHost> {
  const host = new Host(init)
  await host.start()
  return host
}

class Host extends TypedEventEmitter<AerieHostEvents> implements AerieHost {
  libp2p!: Libp2p
  private readonly init: AerieHostInit
  private readonly identities = new Map<string, DeviceIdentity>()
  private readonly log: (line: string) => void
  lanOnly: boolean

  constructor (init: AerieHostInit) {
    super()
    this.init = init
    this.log = init.log ?? (() => {})
    this.lanOnly = init.lanOnly === true
  }

  get peerId (): PeerId { return this.libp2p.peerId }

  async start (): Promise<void> {
    const { trust } = this.init
    this.libp2p = await createLibp2p({
      privateKey: this.init.privateKey,
      addresses: { listen: this.init.listen },
      transports: [tcp()],
      connectionEncrypters: [certificateEncrypter({
        trust,
        issuer: this.init.issuer,
        enrollment: this.init.enrollment,
        onAuthenticated: (identity, peer) => { this.identities.set(peer.toString(), identity) },
        onRefused: (reason, remoteAddress) => {
          if (reason instanceof PeerRefusedError && reason.peerCode === 'ERR_DEVICE_REVOKED') {
            this.safeDispatchEvent('self:revoked', { detail: { remoteAddress } })
          }
          this.log(`refused connection with ${remoteAddress}: ${reason.message}`)
        }
      })],
      streamMuxers: [yamux()],
      peerDiscovery: this.init.mdns === true ? [mdns({ interval: 10_000 })] : [],
      connectionManager: { maxConnections: 300 },
      connectionGater: lanOnlyGater(() => this.lanOnly, (address) => { this.log(`refused connection from ${address}: this device is in LAN-only mode`) }),
      // It pings /ipfs/ping/1.0.0, which Aerie does not serve, and drops a connection whose
      // ping is slow: a link busy with a large transfer would be cut for being busy.
      connectionMonitor: { enabled: false }
    })
    await this.libp2p.handle(CRL_PROTOCOL, (stream, connection) => this.receiveCrl(stream, connection))
    this.libp2p.addEventListener('connection:open', (evt) => { this.onConnectionOpen(evt.detail) })
    this.libp2p.addEventListener('connection:close', (evt) => { this.onConnectionClose(evt.detail) })
    this.libp2p.addEventListener('peer:discovery', (evt) => { this.onDiscovery(evt.detail) })
    trust.addEventListener('crl', (evt) => {
      this.log(`adopted CRL number ${evt.detail.number} (${evt.detail.revokedSerials.size} revoked)`)
      this.enforceRevocation()
      this.broadcastCrl().catch(() => {})
    })
  }

  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  connectedDevices (): ConnectedDevice[] {
    const seen = new Map<string, ConnectedDevice>()
    for (const connection of this.libp2p.getConnections()) {
      const device = this.describe(connection)
      if (device != null && !seen.has(device.peerId)) seen.set(device.peerId, device)
    }
    return [...seen.values()]
  }

  identityOf (peerId: string): DeviceIdentity | undefined {
    return this.identities.get(peerId)
  }

  async dial (address: string, options?: AbortOptions): Promise<DeviceIdentity> {
    const connection = await this.libp2p.dial(multiaddr(address), options)
    const identity = this.identities.get(connection.remotePeer.toString())
    if (identity == null) throw new UntrustedPeerError(`${address} connected without a certificate`)
    return identity
  }

  async broadcastCrl (): Promise<void> {
    const der = this.init.trust.crl()
    if (der == null) return
    await Promise.allSettled(this.libp2p.getConnections().map(async connection => {
      const stream = await connection.newStream(CRL_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      await lpStream(stream).write(der, { signal: AbortSignal.timeout(5_000) })
      await stream.close()
    }))
  }

  setLanOnly (on: boolean): void {
    this.lanOnly = on
    if (!on) return
    for (const connection of this.libp2p.getConnections()) {
      if (isLocalMultiaddr(connection.remoteAddr)) continue
      this.log(`closing connection to ${connection.remoteAddr.toString()}: this device is now in LAN-only mode`)
      void connection.close().catch((err: Error) => { connection.abort(err) })
    }
  }

  async stop (): Promise<void> {
    await this.libp2p.stop()
  }

  private async receiveCrl (stream: Stream, connection: Connection): Promise<void> {
    try {
      const der = await lpStream(stream, { maxDataLength: MAX_CRL_BYTES }).read({ signal: AbortSignal.timeout(5_000) })
      // Adopting fires the trust store's 'crl' event, which enforces and passes it on.
      this.init.trust.offerCrl(der.subarray())
      await stream.close()
    } catch (err) {
      this.log(`bad CRL message from ${connection.remotePeer.toString()}: ${(err as Error).message}`)
      stream.abort(err as Error)
    }
  }

  private enforceRevocation (): void {
    for (const connection of this.libp2p.getConnections()) {
      const identity = this.identities.get(connection.remotePeer.toString())
      if (identity != null && this.init.trust.isRevoked(identity.serial)) {
        this.log(`closing connection to revoked device ${identity.deviceId} (${identity.deviceName})`)
        connection.abort(new RevokedDeviceError(`device ${identity.deviceId} has been revoked`))
      }
    }
  }

  private onConnectionOpen (connection: Connection): void {
    const device = this.describe(connection)
    if (device == null) return
    // The certificate may have been revoked while this connection was being set up.
    if (this.init.trust.isRevoked(device.identity.serial)) {
      connection.abort(new RevokedDeviceError(`device ${device.identity.deviceId} has been revoked`))
      return
    }
    if (this.libp2p.getConnections(connection.remotePeer).length === 1) {
      this.safeDispatchEvent('device:connect', { detail: device })
    }
  }

  private onConnectionClose (connection: Connection): void {
    if (this.libp2p.getConnections(connection.remotePeer).length > 0) return
    const peerId = connection.remotePeer.toString()
    this.safeDispatchEvent('device:disconnect', { detail: { peerId, identity: this.identities.get(peerId) } })
  }

  private onDiscovery (peer: PeerInfo): void {
    if (this.libp2p.getConnections(peer.id).length > 0) return
    this.libp2p.dial(peer.id, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      this.log(`could not reach discovered peer ${peer.id.toString()}: ${err.message}`)
    })
  }

  private describe (connection: Connection): ConnectedDevice | undefined {
    const identity = this.identities.get(connection.remotePeer.toString())
    if (identity == null) return undefined
    return {
      identity,
      peerId: connection.remotePeer.toString(),
      remoteAddress: connection.remoteAddr.toString(),
      direction: connection.direction,
      connectedAt: connection.timeline.open
    }
  }
}
