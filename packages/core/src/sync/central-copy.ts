import { TypedEventEmitter } from '@libp2p/interface'
import { InvalidInputError, NotConfiguredError, ProtocolError, StoreDamagedError } from '../errors.ts'
import { answerOnce, MAX_VERSIONS_LISTED, MAX_VERSIONS_REQUEST, MAX_VERSIONS_RESPONSE, parseVersionsRequest, VERSIONS_PROTOCOL } from '../protocol/index.ts'
import { pathProblem } from '../index/index.ts'
import { readDeviceCertificate } from '../pki/index.ts'
import { readChunks, storeStream } from '../store/index.ts'
import { ByteBudget } from '../util/byte-budget.ts'
import { inParallel } from '../util/in-parallel.ts'
import { IndexExchange } from './index-exchange.ts'
import { PullScheduler } from './pull-scheduler.ts'
import { canWrite, changeMember, roleOf } from './membership.ts'
import { createStoreChunks } from './store-chunks.ts'
import { pullIntoStore } from './store-puller.ts'
import type { FolderIndex } from '../index/index.ts'
import type { AerieHost } from '../net/index.ts'
import type { Crl } from '../pki/index.ts'
import type { ChunkStore } from '../store/index.ts'
import type { CentralHistory } from './central-history.ts'
import type { FolderOffer } from './index-exchange.ts'
import type { MembershipStore } from './membership-store.ts'
import type { FolderMember, FolderRole, FolderUser, MemberChange, MembershipRecord } from './membership.ts'
import type { PeerCounters } from './peer-link.ts'
import type { PullProgress } from './puller.ts'
import type { FileRecord } from '../index/index.ts'
import type { ServerVersion, VersionsResponse } from '../protocol/index.ts'
import type { Connection, Stream } from '@libp2p/interface'

/**
 * The central copy: the team server's side of folder sync. The server is a member like any
 * other device, but it keeps each folder as records in its index and contents in its chunk
 * store (deduplicated across every folder), never as plain files. It accepts every folder a
 * member shares with it (unless `accepts` says otherwise), takes in every change, and serves
 * the chunks to members, so an agent can sync from it when no other member is online.
 */
export interface CentralCopyInit {
  host: AerieHost
  index: FolderIndex
  deviceId: string
  memberships: MembershipStore
  store: ChunkStore
  history: CentralHistory
  /** The server's device key and certificate (role server): it signs membership changes its admins make. */
  keyPem: string
  certificate: string
  caCertificate: string
  crl(): Crl | undefined
  /** Which offered folders to keep (default: every folder it is given). */
  accepts?(offer: FolderOffer): boolean
  log(line: string): void
  /** Security-relevant events for the audit log: folders taken in, membership changes, restores. */
  audit?(event: CentralAuditEvent): void
}

/** What tells one version of a file from another, short of its chunks. */
export interface FileIdentity { size: number, mtimeMs: number, modifiedBy: string }

export interface CentralAuditEvent {
  actor: string
  action: 'folder.kept' | 'folder.membership_changed' | 'version.restored' | 'file.written'
  target: string
  detail: Record<string, string>
}

export interface CentralFolderSummary {
  id: string
  label: string
  owner: string
  members: FolderMember[]
  users: FolderUser[]
  /** Files (not directories or deletions) in the central copy, and their bytes. */
  files: number
  bytes: number
  /** Members connected now. */
  online: string[]
}

export interface CentralFolderStatus extends CentralFolderSummary {
  /** What the central copy still lacks of what members announced. */
  needFiles: number
  needBytes: number
  pull?: PullProgress
  pullProblems: Array<{ path: string, message: string }>
}

/** What a repair did: files whose chunks are all in the store again, and those it could not mend yet. */
export interface CentralRepair {
  repaired: number
  failed: Array<{ folder: string, path: string, message: string }>
}

export interface CentralCopyEvents {
  progress: CustomEvent<PullProgress>
  pulled: CustomEvent<PullProgress & { problems: number }>
}

interface CentralFolder {
  id: string
  progress?: PullProgress
  problems: Array<{ path: string, message: string }>
}

const PULL_DEBOUNCE_MS = 50
const PULL_RETRY_MS = 10_000
const PRUNE_EVERY_MS = 10 * 60_000
const READ_AHEAD_BYTES = 32 * 1024 * 1024
/** Chunks of one file fetched at once in a repair. */
const REPAIR_CHUNKS_IN_FLIGHT = 16

export class CentralCopy extends TypedEventEmitter<CentralCopyEvents> {
  private readonly init: CentralCopyInit
  private readonly folders = new Map<string, CentralFolder>()
  private readonly pulls: PullScheduler
  private readonly sizes = new Map<string, { sequence: number, files: number, bytes: number }>()
  private exchange!: IndexExchange
  private pruneTimer?: NodeJS.Timeout
  /** Chunks read ahead for all downloads at once (share links): many readers, bounded memory. */
  private readonly readAhead = new ByteBudget(READ_AHEAD_BYTES)
  private stopped = false

  /** The server's device and user, as membership records see it. */
  private readonly self: { deviceId: string, user: string }

  private constructor (init: CentralCopyInit) {
    super()
    this.init = init
    this.self = { deviceId: init.deviceId, user: readDeviceCertificate(init.certificate).user }
    this.pulls = new PullScheduler({ pull: async (id) => await this.runPull(id), debounceMs: PULL_DEBOUNCE_MS, retryMs: PULL_RETRY_MS })
  }

  static async start (init: CentralCopyInit): Promise<CentralCopy> {
    const copy = new CentralCopy(init)
    // The folders it already keeps: those whose membership names this server.
    for (const signed of init.memberships.list()) {
      if (roleOf(signed.record, copy.self) !== undefined) copy.folders.set(signed.record.folder, { id: signed.record.folder, problems: [] })
    }
    copy.exchange = await IndexExchange.start({
      ...init,
      user: copy.self.user,
      localChunks: createStoreChunks(init.index, init.store),
      hasFolder: id => copy.folders.has(id),
      folderIds: () => copy.folders.keys(),
      onRemoteChange: (id) => { copy.pulls.schedule(id) },
      onOffer: (offer, signed) => { void copy.accept(offer, signed) },
      onMembership: (record, from) => {
        init.audit?.({ actor: `device ${from}`, action: 'folder.membership_changed', target: record.folder, detail: { version: String(record.version), members: [...record.members.map(m => `${m.deviceId}:${m.role}`), ...(record.users ?? []).map(u => `${u.user}:${u.role}`)].join(' ') } })
      }
    })
    await init.host.libp2p.handle(VERSIONS_PROTOCOL, (stream, connection) => copy.serveVersions(stream, connection))
    for (const id of copy.folders.keys()) copy.pulls.schedule(id)
    copy.pruneTimer = setInterval(() => { copy.pruneVersions() }, PRUNE_EVERY_MS)
    copy.pruneTimer.unref()
    return copy
  }

  /** Applies each folder's retention policy to the central history. */
  pruneVersions (now = new Date()): number {
    try {
      const removed = this.init.history.prune(now)
      if (removed > 0) this.init.log(`version history: ${removed} versions past their folder's retention removed`)
      return removed
    } catch (err) {
      this.init.log(`version history: could not prune: ${(err as Error).message}`)
      return 0
    }
  }

  /**
   * The versions the central copy keeps of a file, current one first (a deleted file's current
   * version is its deletion), or of every file under a directory ('' for the whole folder).
   */
  versions (folder: string, path: string): ServerVersion[] {
    this.folderOrThrow(folder)
    const current = path === '' ? undefined : this.init.index.getLocal(folder, path)
    const kept = this.init.history.list(folder, path).slice(0, MAX_VERSIONS_LISTED - 1)
    return [
      ...(current === undefined || current.type !== 'file' ? [] : [summary(current)]),
      ...kept.map(v => summary(v.record, v.replacedAt))
    ]
  }

  /**
   * Makes the version of a file that was current at `at` its newest version (a new change by
   * this server, which syncs to every member). The version it replaces is kept in the history.
   */
  async restore (folder: string, path: string, at: Date, by: string): Promise<ServerVersion> {
    this.folderOrThrow(folder)
    const { index, history, store } = this.init
    const replaced = history.list(folder, path).filter(v => v.path === path && !v.record.deleted && v.record.type === 'file')
    // The version current at `at`: made by then, and replaced only after it.
    // (Times are given to the second, as `aerie versions` shows them.)
    const version = replaced.filter(v => v.replacedAt.getTime() > at.getTime() && Math.floor(v.record.mtimeMs / 1000) * 1000 <= at.getTime())
      .sort((a, b) => a.replacedAt.getTime() - b.replacedAt.getTime())[0]
    if (version === undefined) {
      throw new InvalidInputError(`the team server keeps no version of "${path}" in folder ${folder} that was current at ${at.toISOString()}; \`aerie versions\` lists the versions it has`)
    }
    const missing = (await store.has(version.record.chunks.map(c => c.hash))).filter(present => !present).length
    if (missing > 0) throw new StoreDamagedError(`${missing} chunks of that version of "${path}" are no longer in the team server's store`)
    const current = index.getLocal(folder, path)
    if (current !== undefined && !current.deleted && current.type === 'file') history.add(folder, current, this.init.deviceId)
    const { record } = version
    index.updateLocal(folder, [{ path, type: 'file', size: record.size, mtimeMs: record.mtimeMs, mode: record.mode, deleted: false, chunks: record.chunks }])
    this.init.log(`folder ${folder}: "${path}" restored to the version modified ${new Date(record.mtimeMs).toISOString()}, asked by ${by}`)
    this.exchange.announce(folder)
    return summary(record)
  }

  /**
   * Fetches again from the folders' members what files of the central copy need and the store
   * no longer holds (a scrub found those chunks damaged or missing; the store counts both as
   * absent, and a put of a good copy replaces a damaged one). A kept version's chunks come back
   * only from a member that still has them in its own files. A file whose chunks no connected
   * member has fails; the next scrub tries it again.
   */
  async repair (files: ReadonlyArray<{ folder: string, path: string, version: 'current' | 'kept' }>): Promise<CentralRepair> {
    const { index, history, store } = this.init
    const result: CentralRepair = { repaired: 0, failed: [] }
    for (const { folder, path, version } of files) {
      if (this.stopped) break
      try {
        this.folderOrThrow(folder)
        const current = index.getLocal(folder, path)
        const records = version === 'current'
          ? (current === undefined ? [] : [current])
          : history.list(folder, path).filter(v => v.path === path).map(v => v.record)
        const chunks = records.flatMap(r => r.type === 'file' && !r.deleted ? r.chunks.map(c => ({ ...c, from: r.modifiedBy })) : [])
        const held = await store.has(chunks.map(c => c.hash))
        await inParallel(chunks.filter((_, i) => held[i] !== true), REPAIR_CHUNKS_IN_FLIGHT, async (chunk) => {
          const bytes = await this.exchange.fetchChunk(folder, chunk.hash, chunk.size, chunk.from)
          // fetchChunk checked the hash.
          await store.put(chunk.hash, bytes, { verified: true })
        })
        result.repaired++
      } catch (err) {
        result.failed.push({ folder, path, message: (err as Error).message })
      }
    }
    this.init.log(`central copy repair: ${result.repaired} of ${files.length} files whole again${result.failed.length > 0 ? `; not yet: ${result.failed.slice(0, 5).map(f => `${f.folder}/${f.path} (${f.message})`).join(', ')}` : ''}`)
    return result
  }

  /** The folders kept here. */
  folderIds (): string[] {
    return [...this.folders.keys()]
  }

  /** Each folder's members and size, without what it still needs (cheap: for listings on every request). */
  summaries (): CentralFolderSummary[] {
    const { memberships } = this.init
    return [...this.folders.values()].map(folder => {
      const record = memberships.get(folder.id)?.record
      return {
        id: folder.id,
        label: record?.label ?? folder.id,
        owner: record?.owner ?? '',
        members: record?.members ?? [],
        users: record?.users ?? [],
        ...this.size(folder.id),
        online: this.exchange.membersOnline(folder.id).map(link => link.deviceId)
      }
    })
  }

  /** summaries(), with what each folder still needs and its pull. */
  status (): CentralFolderStatus[] {
    return this.summaries().map(summary => {
      const folder = this.folders.get(summary.id)!
      const need = this.init.index.need(folder.id)
      const status: CentralFolderStatus = {
        ...summary,
        needFiles: need.length,
        needBytes: need.reduce((n, item) => n + (item.winner.deleted ? 0 : item.winner.size), 0),
        pullProblems: folder.problems.slice(0, 100)
      }
      if (folder.progress !== undefined && this.pulls.isPulling(folder.id)) status.pull = folder.progress
      return status
    })
  }

  /** Files and bytes of a folder's current copy, counted again only when its records changed. */
  private size (id: string): { files: number, bytes: number } {
    const { index } = this.init
    const sequence = index.localSequence(id)
    const cached = this.sizes.get(id)
    if (cached?.sequence === sequence) return { files: cached.files, bytes: cached.bytes }
    let files = 0
    let bytes = 0
    for (const file of index.localFiles(id)) {
      if (file.deleted || file.type !== 'file') continue
      files++
      bytes += file.size
    }
    this.sizes.set(id, { sequence, files, bytes })
    return { files, bytes }
  }


  peerCounters (deviceId: string): PeerCounters {
    return this.exchange.countersOf(deviceId)
  }

  /** Resolves once no pull is running or due (tests, a clean stop). */
  async settled (): Promise<void> {
    await this.pulls.settled()
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearInterval(this.pruneTimer)
    await this.pulls.stop()
    await this.init.host.libp2p.unhandle(VERSIONS_PROTOCOL).catch(() => {})
    await this.exchange.stop()
  }

  /** A device's role in a folder kept here (its own entry, or its user's), undefined when it is not a member. */
  roleOf (folder: string, device: { deviceId: string, user: string }): FolderRole | undefined {
    const record = this.init.memberships.get(folder)?.record
    return record === undefined || !this.folders.has(folder) ? undefined : roleOf(record, device)
  }

  /**
   * The version of a file with this identity (size, modified time, by whom), whether it is the
   * current one or one the history still keeps: what a snapshot share link serves.
   */
  version (folder: string, path: string, identity: FileIdentity): FileRecord | undefined {
    const same = (r: FileRecord): boolean => r.type === 'file' && !r.deleted && r.size === identity.size && r.mtimeMs === identity.mtimeMs && r.modifiedBy === identity.modifiedBy
    const current = this.record(folder, path)
    if (current !== undefined && same(current)) return current
    return this.init.history.list(folder, path).find(v => v.path === path && same(v.record))?.record
  }

  /** The current record of a path (a tombstone for a deleted one), or undefined. */
  record (folder: string, path: string): FileRecord | undefined {
    this.folderOrThrow(folder)
    return this.init.index.getLocal(folder, path)
  }

  /**
   * A file's bytes from `start` up to (not including) `end`, read chunk by chunk from the
   * store (a few ahead), never the whole file in memory. Every chunk is verified as it is read.
   */
  read (record: FileRecord, start = 0, end = record.size): AsyncGenerator<Uint8Array> {
    return readChunks(this.init.store, record.chunks, start, end, { budget: this.readAhead })
  }

  /**
   * Makes `source`'s bytes the newest version of `path` (a change by this server that syncs to
   * every member; the version it replaces is kept): a file dropped through a share link, say.
   * The bytes go to the store as they arrive; the record is written only once all are stored.
   */
  async write (folder: string, path: string, source: AsyncIterable<Uint8Array>, options: { mtimeMs?: number, mode?: number, by: string }): Promise<FileRecord> {
    this.folderOrThrow(folder)
    const problem = pathProblem(path)
    if (problem !== undefined) throw new InvalidInputError(`cannot write "${path}": ${problem}`)
    const { chunks, size } = await storeStream(this.init.store, source)
    const { index, history } = this.init
    const current = index.getLocal(folder, path)
    if (current !== undefined && !current.deleted && current.type === 'file') history.add(folder, current, this.init.deviceId)
    const [record] = index.updateLocal(folder, [{ path, type: 'file', size, mtimeMs: options.mtimeMs ?? Date.now(), mode: options.mode ?? 0o644, deleted: false, chunks }])
    this.init.log(`folder ${folder}: "${path}" written (${size} bytes) by ${options.by}`)
    this.init.audit?.({ actor: options.by, action: 'file.written', target: `${folder}/${path}`, detail: { size: String(size) } })
    this.exchange.announce(folder)
    return record ?? index.getLocal(folder, path)!
  }

  /** Every file (not deleted) under `dir` ('' the whole folder), by path: a folder download's contents. */
  * files (folder: string, dir: string): Generator<FileRecord> {
    this.folderOrThrow(folder)
    const prefix = dir === '' ? '' : `${dir}/`
    const records = [...this.init.index.localFiles(folder)].filter(r => !r.deleted && r.type === 'file' && r.path.startsWith(prefix))
    yield * records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  /** The records directly under `dir` ('' the root), deleted ones included, by name. */
  list (folder: string, dir: string): FileRecord[] {
    this.folderOrThrow(folder)
    const prefix = dir === '' ? '' : `${dir}/`
    const out: FileRecord[] = []
    for (const record of this.init.index.localFiles(folder)) {
      if (record.path.startsWith(prefix) && !record.path.slice(prefix.length).includes('/')) out.push(record)
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  }

  /**
   * An admin adds, re-roles or removes a member of a folder (never its owner): the server signs
   * the new record, and it goes to every connected member at once.
   */
  async share (folder: string, member: { deviceId: string } | { user: string }, role: 'editor' | 'viewer' | 'remove'): Promise<MembershipRecord> {
    this.folderOrThrow(folder)
    const held = this.init.memberships.get(folder)!
    const change: MemberChange = role === 'remove' ? { ...member, remove: true as const } : { ...member, role }
    const next = changeMember(held, change, { ownerKeyPem: this.init.keyPem, ownerCertificate: this.init.certificate })
    if (next === held) return held.record
    await this.init.memberships.put(next)
    const whom = 'user' in member ? `every device of ${member.user}` : `device ${member.deviceId}`
    this.init.log(`folder ${folder}: ${role === 'remove' ? `removed ${whom}` : `${whom} is now ${role}`} (membership version ${next.record.version})`)
    this.exchange.introduceToAll(folder)
    return next.record
  }

  private folderOrThrow (folder: string): void {
    if (!this.folders.has(folder)) throw new NotConfiguredError(`the team server keeps no folder "${folder}"`)
  }

  /** `/aerie/versions/1.0.0`: members list versions; editors and the owner restore them. */
  private async serveVersions (stream: Stream, connection: Connection): Promise<void> {
    const device = this.init.host.identityOf(connection.remotePeer.toString())?.deviceId
    await answerOnce(stream, { maxRequest: MAX_VERSIONS_REQUEST, maxResponse: MAX_VERSIONS_RESPONSE }, parseVersionsRequest, async (request): Promise<VersionsResponse> => {
      const record = this.init.memberships.get(request.folder)?.record
      if (device === undefined || record === undefined || !this.folders.has(request.folder) || !this.exchange.isMember(request.folder, device)) {
        throw new ProtocolError(`device ${device ?? 'unknown'} is not a member of folder "${request.folder}" on the team server`)
      }
      if (request.type === 'list') return { type: 'versions', versions: this.versions(request.folder, request.path) }
      if (!canWrite(record, this.exchange.who(device))) throw new ProtocolError(`device ${device} is a viewer of folder "${request.folder}": it cannot restore files`)
      const version = await this.restore(request.folder, request.path, new Date(request.at), `device ${device}`)
      // (A restore from the console is audited there, with the user and their address.)
      this.init.audit?.({ actor: `device ${device}`, action: 'version.restored', target: `${request.folder}/${request.path}`, detail: { at: request.at, modified: new Date(version.mtimeMs).toISOString() } })
      return { type: 'restored', version }
    })
  }

  private async accept (offer: FolderOffer, signed: Parameters<MembershipStore['offer']>[0]): Promise<void> {
    if (this.stopped || this.folders.has(offer.folder) || this.init.accepts?.(offer) === false) return
    try {
      await this.init.memberships.offer(signed, offer.owner)
    } catch (err) {
      this.init.log(`folder ${offer.folder}: could not keep it: ${(err as Error).message}`)
      return
    }
    if (this.folders.has(offer.folder)) return
    this.folders.set(offer.folder, { id: offer.folder, problems: [] })
    this.init.log(`folder ${offer.folder} ("${offer.label}"), owned by device ${offer.owner}: now kept in the central copy`)
    this.init.audit?.({ actor: `device ${offer.from}`, action: 'folder.kept', target: offer.folder, detail: { label: offer.label, owner: offer.owner } })
    this.exchange.introduceToAll(offer.folder)
  }

  /** One pull into the store; true when something is left to try again. */
  private async runPull (id: string): Promise<boolean> {
    const folder = this.folders.get(id)
    if (folder === undefined || this.stopped) return false
    try {
      const result = await pullIntoStore({
        folder: id,
        index: this.init.index,
        store: this.init.store,
        history: this.init.history,
        fetchChunk: async (hash, size, device) => await this.exchange.fetchChunk(id, hash, size, device),
        onProgress: (progress) => {
          folder.progress = progress
          this.safeDispatchEvent('progress', { detail: progress })
        }
      })
      folder.problems = result.problems
      if (result.doneFiles > 0) {
        this.exchange.announce(id)
        this.safeDispatchEvent('pulled', { detail: { ...result, problems: result.problems.length } })
      }
      for (const problem of result.problems.slice(0, 5)) this.init.log(`folder ${id}: could not keep ${problem.path}: ${problem.message}`)
      return result.problems.length > 0
    } catch (err) {
      this.init.log(`folder ${id}: pull failed: ${(err as Error).message}`)
      return true
    } finally {
      folder.progress = undefined
    }
  }

}

function summary (record: FileRecord, replacedAt?: Date): ServerVersion {
  return { path: record.path, size: record.size, mtimeMs: record.mtimeMs, modifiedBy: record.modifiedBy, deleted: record.deleted, ...(replacedAt === undefined ? {} : { replacedAt: replacedAt.toISOString() }) }
}
