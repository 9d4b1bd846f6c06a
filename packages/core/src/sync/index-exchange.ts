import { ProtocolError } from '../errors.ts'
import { isChunk } from '../chunking/index.ts'
import { CHUNK_PROTOCOL, INDEX_PROTOCOL, MAX_INDEX_MESSAGE, messageChannel, parseIndexMessage } from '../protocol/index.ts'
import { serveChunks } from './chunk-server.ts'
import { canWrite, roleOf, verifyMembership } from './membership.ts'
import { PeerLink } from './peer-link.ts'
import type { FolderIndex } from '../index/index.ts'
import type { AerieHost, ConnectedDevice } from '../net/index.ts'
import type { Crl } from '../pki/index.ts'
import type { FolderMessage, IndexMessage } from '../protocol/index.ts'
import type { LocalChunks } from './local-chunks.ts'
import type { MembershipStore } from './membership-store.ts'
import type { FolderRole, MemberIdentity, MembershipRecord, SignedMembership } from './membership.ts'
import type { PeerCounters } from './peer-link.ts'
import type { Connection, Stream } from '@libp2p/interface'
import type { Bandwidth } from './sync-engine.ts'

/**
 * The index exchange with connected devices (`/aerie/index/1.0.0`, docs/protocol.md) and the
 * chunk requests they make of us (`/aerie/chunk/1.0.0`). Membership is checked on every
 * message: records and chunks go only to and come only from members of a folder, and a
 * viewer's records are refused on receipt. A folder offered by a member that is not set up
 * here is kept as an offer.
 */
export interface IndexExchangeInit {
  host: AerieHost
  index: FolderIndex
  deviceId: string
  /** This device's user (its certificate's e-mail): a folder may be shared with all of a user's devices. */
  user: string
  memberships: MembershipStore
  caCertificate: string
  crl(): Crl | undefined
  localChunks: LocalChunks
  /** The folders set up on this device. */
  hasFolder(id: string): boolean
  folderIds(): Iterable<string>
  /** A peer's records or announcement for the folder changed: recount what we need, pull. */
  onRemoteChange(id: string): void
  /** A member brought a newer membership record of a folder set up here (the team server audits it). */
  onMembership?(record: MembershipRecord, from: string): void
  /** A member offered a folder not set up here (its record verified); the team server accepts it at once. */
  onOffer?(offer: FolderOffer, signed: SignedMembership): void
  /** Chunk bandwidth limits, each shared by every peer (see SyncEngine.setLimits). */
  bandwidth?: Bandwidth
  log(line: string): void
}

/** A folder a member device offered us that is not set up here yet. */
export interface FolderOffer { folder: string, label: string, owner: string, from: string, role: FolderRole }

/** How long a connected member may stay silent about a folder before it counts as not sharing it yet. */
const SILENT_MEMBER_MS = 5_000

export class IndexExchange {
  private readonly init: IndexExchangeInit
  private readonly links = new Map<string, PeerLink>()
  /** The user of each device met, for memberships that name users. */
  private readonly users = new Map<string, string>()
  private readonly counters = new Map<string, PeerCounters>()
  private readonly pendingOffers = new Map<string, { signed: SignedMembership, from: string }>()
  private stopped = false

  private constructor (init: IndexExchangeInit) {
    this.init = init
  }

  static async start (init: IndexExchangeInit): Promise<IndexExchange> {
    const exchange = new IndexExchange(init)
    const { libp2p } = init.host
    await libp2p.handle(INDEX_PROTOCOL, (stream, connection) => exchange.receiveIndex(stream, connection))
    await libp2p.handle(CHUNK_PROTOCOL, (stream, connection) => exchange.serveChunkStream(stream, connection), { maxInboundStreams: 64 })
    init.host.addEventListener('device:connect', (evt) => { exchange.onConnect(evt.detail) })
    init.host.addEventListener('device:disconnect', (evt) => { exchange.onDisconnect(evt.detail.identity?.deviceId) })
    for (const device of init.host.connectedDevices()) exchange.onConnect(device)
    return exchange
  }

  /** A folder was set up here, or its membership changed: tell every member that is connected. */
  introduceToAll (id: string): void {
    for (const link of this.links.values()) this.introduce(link, id)
  }

  /** Our records of the folder changed: send each connected member what it has not had. */
  announce (id: string): void {
    for (const link of this.links.values()) {
      link.announce(id).catch((err: Error) => { this.linkFailed(link, err) })
    }
  }

  /** The folder is no longer synced here. */
  forget (id: string): void {
    for (const link of this.links.values()) link.forget(id)
  }

  /** Connected devices that are members of the folder, `preferred` first. */
  membersOnline (id: string, preferred?: string): PeerLink[] {
    return [...this.links.values()]
      .filter(link => link.isOpen && this.isMember(id, link.deviceId))
      .sort((a, b) => Number(b.deviceId === preferred) - Number(a.deviceId === preferred))
  }

  /**
   * Every connected member that shares the folder has said what it has of it, and we hold all
   * of it. A member that has not answered our `folder` message within a few seconds has not set
   * the folder up (an offer not yet accepted): it has nothing to wait for.
   */
  caughtUp (id: string): boolean {
    return this.membersOnline(id).every(link => {
      const announced = link.announced.get(id)
      if (announced === undefined) return (link.sinceIntroduced(id) ?? Infinity) > SILENT_MEMBER_MS
      return this.init.index.remoteSequence(id, link.deviceId) >= announced
    })
  }

  offers (): FolderOffer[] {
    return [...this.pendingOffers.values()]
      .filter(({ signed }) => !this.init.hasFolder(signed.record.folder))
      .map(({ signed, from }) => this.offerFrom(signed, from))
  }

  private offerFrom (signed: SignedMembership, from: string): FolderOffer {
    const { record } = signed
    return { folder: record.folder, label: record.label, owner: record.owner, from, role: roleOf(record, this.self()) ?? 'viewer' }
  }

  /** The membership record a member offered for the folder, if any. */
  offerOf (id: string): SignedMembership | undefined {
    return this.pendingOffers.get(id)?.signed
  }

  /** A chunk of the folder from a connected member, `preferred` (the winner's holder) first; verified. */
  async fetchChunk (id: string, hash: Uint8Array, size: number, preferred: string): Promise<Uint8Array> {
    for (const link of this.membersOnline(id, preferred)) {
      let bytes
      try {
        bytes = await link.chunks.request(id, hash, size)
      } catch {
        continue // the link failed; another member may have it
      }
      if (bytes === undefined) continue
      if (!isChunk(bytes, hash)) {
        this.init.log(`device ${link.deviceId} sent a chunk of folder ${id} whose hash does not match; it was discarded`)
        continue
      }
      return bytes
    }
    throw new ProtocolError(`no connected member of folder "${id}" has chunk ${Buffer.from(hash).toString('hex').slice(0, 16)}… right now; it is fetched when a member that has it is online`)
  }

  countersOf (deviceId: string): PeerCounters {
    return { ...(this.counters.get(deviceId) ?? { bytesIn: 0, bytesOut: 0 }) }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all([...this.links.values()].map(async link => { await link.close() }))
    await this.init.host.libp2p.unhandle([INDEX_PROTOCOL, CHUNK_PROTOCOL]).catch(() => {})
  }

  /** Both this device and `deviceId` are members of the folder, by the current record. */
  isMember (id: string, deviceId: string): boolean {
    const record = this.init.memberships.get(id)?.record
    return record !== undefined && roleOf(record, this.who(deviceId)) !== undefined && roleOf(record, this.self()) !== undefined
  }

  /** A device as membership records see it: its id and its user. */
  who (deviceId: string): MemberIdentity {
    const user = this.users.get(deviceId)
    return user === undefined ? { deviceId } : { deviceId, user }
  }

  private self (): MemberIdentity {
    return { deviceId: this.init.deviceId, user: this.init.user }
  }

  // ---- peers -----------------------------------------------------------------------------

  private onConnect (device: ConnectedDevice): void {
    const connection = this.init.host.libp2p.getConnections().find(c => c.remotePeer.toString() === device.peerId && c.status === 'open')
    if (connection !== undefined) this.linkOn(device.identity, connection)
  }

  /** The device's open link, made on `connection` (and introduced to our folders) if it has none. */
  private linkOn (identity: { deviceId: string, user: string }, connection: Connection): PeerLink | undefined {
    if (this.stopped) return undefined
    const { deviceId } = identity
    this.users.set(deviceId, identity.user)
    const existing = this.links.get(deviceId)
    if (existing?.isOpen === true) return existing
    const counters = this.counters.get(deviceId) ?? { bytesIn: 0, bytesOut: 0 }
    this.counters.set(deviceId, counters)
    const link = new PeerLink({ deviceId, connection, index: this.init.index, counters, download: this.init.bandwidth?.download })
    this.links.set(deviceId, link)
    for (const id of this.init.folderIds()) this.introduce(link, id)
    return link
  }

  private onDisconnect (deviceId: string | undefined): void {
    if (deviceId === undefined) return
    const link = this.links.get(deviceId)
    if (link === undefined || link.isOpen) return
    this.links.delete(deviceId)
    link.close().catch(() => {})
  }

  private linkFor (connection: Connection): PeerLink | undefined {
    const identity = this.init.host.identityOf(connection.remotePeer.toString())
    return identity === undefined ? undefined : this.linkOn(identity, connection)
  }


  /** Sends our `folder` message for a folder to a peer that is a member (again when the membership changed). */
  private introduce (link: PeerLink, id: string, again = false): void {
    const signed = this.init.memberships.get(id)
    if (signed === undefined || !this.init.hasFolder(id) || !this.isMember(id, link.deviceId)) return
    if (link.introducedAt(id) === signed.record.version && !again) return
    const { index } = this.init
    const message: FolderMessage = {
      type: 'folder',
      folder: id,
      membership: signed,
      indexId: index.localIndexId(id),
      sequence: index.localSequence(id),
      have: { indexId: index.remoteIndexId(id, link.deviceId), sequence: index.remoteSequence(id, link.deviceId) }
    }
    link.introduce(message, signed.record.version).catch((err: Error) => { this.linkFailed(link, err) })
  }

  private async receiveIndex (stream: Stream, connection: Connection): Promise<void> {
    const link = this.linkFor(connection)
    if (link === undefined) { stream.abort(new ProtocolError('unknown device')); return }
    const channel = messageChannel(stream, MAX_INDEX_MESSAGE)
    try {
      while (true) {
        const before = channel.bytesIn
        const input = await channel.readJson()
        if (input === undefined) break
        link.counters.bytesIn += channel.bytesIn - before
        const message = parseIndexMessage(input)
        if (message.type === 'folder') await this.onFolderMessage(link, message)
        else this.onIndexMessage(link, message)
      }
      await stream.close()
    } catch (err) {
      this.init.log(`index exchange with ${link.deviceId} stopped: ${(err as Error).message}`)
      stream.abort(err as Error)
    }
  }

  private async onFolderMessage (link: PeerLink, message: FolderMessage): Promise<void> {
    const { memberships, index, log } = this.init
    const id = message.folder
    if (!this.init.hasFolder(id)) {
      // Not set up here: keep it as an offer the user can accept with `aerie folder add`.
      const held = memberships.get(id)
      try {
        const crl = this.init.crl()
        const record = verifyMembership(message.membership, {
          caCertificate: this.init.caCertificate,
          ...(crl === undefined ? {} : { crl }),
          ...(held === undefined ? {} : { pinnedOwner: held.record.owner })
        })
        if (roleOf(record, this.self()) !== undefined && !this.pendingOffers.has(id)) {
          log(`device ${link.deviceId} offers folder ${id} ("${record.label}"); accept with \`aerie folder add PATH --id ${id}\``)
        }
        if (roleOf(record, this.self()) !== undefined) {
          const signed = message.membership as SignedMembership
          this.pendingOffers.set(id, { signed, from: link.deviceId })
          this.init.onOffer?.(this.offerFrom(signed, link.deviceId), signed)
        }
      } catch (err) {
        log(`refused folder ${id} offered by ${link.deviceId}: ${(err as Error).message}`)
      }
      return
    }
    const before = memberships.get(id)?.record.version
    try {
      await memberships.offer(message.membership)
    } catch (err) {
      log(`refused a membership record of folder ${id} from ${link.deviceId}: ${(err as Error).message}`)
      return
    }
    const after = memberships.get(id)?.record.version
    if (after !== before) {
      log(`folder ${id}: membership version ${String(after)} from ${link.deviceId}`)
      this.init.onMembership?.(memberships.get(id)!.record, link.deviceId)
      for (const other of this.links.values()) this.introduce(other, id)
    }
    if (!this.isMember(id, link.deviceId)) {
      log(`folder ${id}: device ${link.deviceId} is not a member; nothing is exchanged with it`)
      return
    }
    index.useRemoteIndexId(id, link.deviceId, message.indexId)
    // The first `folder` message from the peer on this connection: it may have set the folder up
    // only now, after ours reached it as a mere offer, so it needs ours (our `have`) again.
    const first = !link.announced.has(id)
    link.announced.set(id, message.sequence)
    this.init.onRemoteChange(id)
    this.introduce(link, id, first)
    // Our records were rebuilt since the peer last heard from us: it gets them all again.
    const from = message.have.indexId === index.localIndexId(id) ? message.have.sequence : 0
    if (roleOf(this.init.memberships.get(id)!.record, this.self()) === 'viewer') return
    link.startAnnouncing(id, from).catch((err: Error) => { this.linkFailed(link, err) })
  }

  private onIndexMessage (link: PeerLink, message: IndexMessage): void {
    const id = message.folder
    const record = this.init.memberships.get(id)?.record
    if (!this.init.hasFolder(id) || record === undefined || !this.isMember(id, link.deviceId)) {
      throw new ProtocolError(`device ${link.deviceId} sent records for folder "${id}", which it does not share with this device`)
    }
    if (!canWrite(record, this.who(link.deviceId))) {
      // Enforced here, on receipt: a viewer's changes never enter our index.
      this.init.log(`refused ${message.records.length} records of folder ${id} from ${link.deviceId}: it is a viewer of the folder`)
      return
    }
    this.init.index.applyRemote(id, link.deviceId, message.records)
    const last = message.records[message.records.length - 1]
    if (last !== undefined && last.sequence > (link.announced.get(id) ?? 0)) link.announced.set(id, last.sequence)
    this.init.onRemoteChange(id)
  }

  private async serveChunkStream (stream: Stream, connection: Connection): Promise<void> {
    const link = this.linkFor(connection)
    if (link === undefined) { stream.abort(new ProtocolError('unknown device')); return }
    await serveChunks(stream, {
      chunks: this.init.localChunks,
      mayRead: folder => this.init.hasFolder(folder) && this.isMember(folder, link.deviceId),
      onBytesOut: (n) => { link.counters.bytesOut += n },
      upload: this.init.bandwidth?.upload
    }).catch((err: Error) => { this.init.log(`chunk requests from ${link.deviceId} stopped: ${err.message}`) })
  }

  private linkFailed (link: PeerLink, err: Error): void {
    if (!link.isOpen || this.stopped) return
    this.init.log(`sync with ${link.deviceId} failed: ${err.message}; reconnecting`)
    link.connection.abort(err)
  }
}
