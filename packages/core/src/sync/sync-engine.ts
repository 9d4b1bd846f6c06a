import { TypedEventEmitter } from '@libp2p/interface'
import { NotConfiguredError, ProtocolError } from '../errors.ts'
import { readDeviceCertificate } from '../pki/index.ts'
import { readFolderMarker } from '../scan/index.ts'
import { FolderRunner } from './folder-runner.ts'
import { IndexExchange } from './index-exchange.ts'
import { createLocalChunks } from './local-chunks.ts'
import { changeMember, createMembership, roleOf } from './membership.ts'
import { neededItems, needTotals, pullFolder } from './puller.ts'
import { askServerVersions } from './server-versions.ts'
import { PullScheduler } from './pull-scheduler.ts'
import { openVersionHistory } from './version-history.ts'
import type { FolderIndex } from '../index/index.ts'
import type { AerieHost } from '../net/index.ts'
import type { Crl } from '../pki/index.ts'
import type { FolderState, FolderStatus } from './folder-runner.ts'
import type { FolderOffer } from './index-exchange.ts'
import type { LocalChunks } from './local-chunks.ts'
import type { MembershipStore } from './membership-store.ts'
import type { FolderMember, FolderRole, FolderUser, MemberChange, MembershipRecord } from './membership.ts'
import type { PeerCounters } from './peer-link.ts'
import type { PullProgress } from './puller.ts'
import type { RetentionPolicy, VersionHistory } from './version-history.ts'
import type { ServerVersion } from '../protocol/index.ts'
import type { Connection } from '@libp2p/interface'
import { DiskRoom, KEEP_FREE_SHARE } from '../util/disk-room.ts'
import { TokenBucket } from '../util/token-bucket.ts'
import type { TokenBucketStats } from '../util/token-bucket.ts'

/**
 * The sync engine: every synced folder of this device (scanner, watcher, puller) and its
 * exchange with the devices that are members of it.
 *
 * - Membership decides everything: index records and chunks go only to and from members; a
 *   viewer's records are refused on receipt. Records are signed by the folder's owner
 *   (membership.ts) and passed on with every `folder` message, so the newest one spreads.
 * - On connect, each side sends a `folder` message per shared folder saying what it already
 *   holds of the other's records; each then sends only what follows (protocol/index-messages.ts).
 * - Local changes (scanner, watcher) are announced at once; records received are stored and
 *   a pull follows. A pull fetches chunks from any connected member, verifying each hash.
 */
export interface FolderConfig {
  id: string
  path: string
  label: string
  /** Paused: not scanned, watched or pulled; peers' changes wait until it is resumed. */
  paused?: boolean
  /** How long its version history keeps replaced and deleted files (DEFAULT_RETENTION for what is not given). */
  versions?: Partial<RetentionPolicy>
}

export interface SyncEngineInit {
  host: AerieHost
  index: FolderIndex
  deviceId: string
  memberships: MembershipStore
  /** This device's key and certificate: it signs the membership of the folders it owns. */
  keyPem: string
  certificate: string
  /** To check membership records offered for folders not set up here (the store checks the rest). */
  caCertificate: string
  crl(): Crl | undefined
  rescanMs?: number
  watch?: boolean
  /** The team server's device id, when the organisation has one: folders made here are shared with it (its central copy). */
  teamServer?(): string | undefined
  /** Chunk bandwidth limits in bytes per second (0 or absent: none); setLimits changes them. */
  uploadLimit?: number
  downloadLimit?: number
  /** The share of a folder's disk (%) a pull keeps free (1 unless given); setMinDiskFree changes it. */
  minDiskFree?: number
  log(line: string): void
}

/** One token bucket per direction, shared by every chunk stream with every peer. */
export interface Bandwidth { upload: TokenBucket, download: TokenBucket }

export type SyncFolderState = FolderState | 'syncing' | 'paused'

export interface SyncFolderStatus extends Omit<FolderStatus, 'state'> {
  state: SyncFolderState
  /** Files (and directories, links, deletions) this device still needs, and their bytes. */
  needFiles: number
  needBytes: number
  /** It holds the latest version every connected member has announced. */
  inSync: boolean
  owner?: string
  role?: FolderRole
  members: FolderMember[]
  /** Users all of whose devices are members. */
  users: FolderUser[]
  /** The running pull's progress. */
  pull?: PullProgress
  /** Paths the last pull could not bring in; retried. */
  pullProblems: Array<{ path: string, message: string }>
  /** When they are tried again (ISO 8601), while a retry waits: later after each failure in a row. */
  nextRetryAt?: string
}


export interface SyncEngineEvents {
  /** A folder's scanner state changed (idle, scanning, needs-confirmation, error). */
  state: CustomEvent<FolderStatus>
  progress: CustomEvent<PullProgress>
  /** A pull finished (with what it did), for logs and notifications. */
  pulled: CustomEvent<PullProgress & { problems: number, conflicts?: number }>
}

interface SyncedFolder {
  config: FolderConfig
  runner: FolderRunner
  history: VersionHistory
  progress?: PullProgress
  problems: Array<{ path: string, message: string }>
  /** need() is not free on a big folder: computed again after a change, at most once a second. */
  need?: { needFiles: number, needBytes: number, at: number, stale: boolean }
  scanned: boolean
  lastPrune: number
  paused: boolean
}

const PULL_DEBOUNCE_MS = 50
const PULL_RETRY_MS = 10_000
const PRUNE_EVERY_MS = 10 * 60_000
/** How stale `needFiles`/`needBytes` in status may be while a folder changes. */
const NEED_REFRESH_MS = 1_000

export class SyncEngine extends TypedEventEmitter<SyncEngineEvents> {
  private readonly init: SyncEngineInit
  private readonly folders = new Map<string, SyncedFolder>()
  private exchange!: IndexExchange
  private readonly localChunks: LocalChunks
  private readonly pulls: PullScheduler
  private stopped = false
  /** This device's user, as its certificate names it. */
  private readonly user: string
  private readonly bandwidth: Bandwidth
  /** The share of a folder's disk (%) a pull keeps free. */
  private minDiskFree: number

  private constructor (init: SyncEngineInit) {
    super()
    this.init = init
    this.user = readDeviceCertificate(init.certificate).user
    this.bandwidth = { upload: new TokenBucket({ rate: init.uploadLimit ?? 0 }), download: new TokenBucket({ rate: init.downloadLimit ?? 0 }) }
    this.minDiskFree = init.minDiskFree ?? KEEP_FREE_SHARE * 100
    this.localChunks = createLocalChunks(init.index, folder => this.folders.get(folder)?.config.path)
    this.pulls = new PullScheduler({
      pull: async (id) => await this.runPull(id),
      // Pulls wait for the first scan (until then a file on disk is unknown to the index), and never run while paused.
      ready: id => this.folders.get(id)?.scanned === true && this.folders.get(id)?.paused === false,
      debounceMs: PULL_DEBOUNCE_MS,
      retryMs: PULL_RETRY_MS
    })
  }

  static async start (init: SyncEngineInit): Promise<SyncEngine> {
    const engine = new SyncEngine(init)
    engine.exchange = await IndexExchange.start({
      ...init,
      user: engine.user,
      bandwidth: engine.bandwidth,
      localChunks: engine.localChunks,
      hasFolder: id => engine.folders.has(id),
      folderIds: () => engine.folders.keys(),
      onRemoteChange: (id) => {
        engine.invalidate(id)
        engine.pulls.schedule(id)
      }
    })
    return engine
  }

  // ---- folders ---------------------------------------------------------------------------

  /** Starts folders that the configuration gained and stops those it lost (deleting nothing). */
  async setFolders (configs: readonly FolderConfig[]): Promise<{ added: string[], removed: string[] }> {
    const wanted = new Map(configs.map(c => [c.id, c]))
    const removed: string[] = []
    const added: string[] = []
    for (const [id, folder] of this.folders) {
      if (wanted.has(id)) continue
      await folder.runner.stop()
      await this.pulls.forget(id)
      this.folders.delete(id)
      this.exchange.forget(id)
      removed.push(id)
    }
    for (const config of wanted.values()) {
      const existing = this.folders.get(config.id)
      if (existing !== undefined) {
        if ((config.paused === true) !== existing.paused) await (config.paused === true ? this.pause(config.id) : this.resume(config.id))
        if (JSON.stringify(config.versions ?? {}) !== JSON.stringify(existing.config.versions ?? {})) {
          existing.config = { ...existing.config, versions: config.versions }
          existing.history = this.historyOf(existing.config)
          // A shorter policy takes effect now, not at the next pull.
          existing.lastPrune = 0
          this.pruneVersions(existing)
        }
        continue
      }
      await this.ensureMembership(config)
      const folder: SyncedFolder = { config, runner: this.newRunner(config), history: this.historyOf(config), problems: [], scanned: false, lastPrune: 0, paused: config.paused === true }
      this.folders.set(config.id, folder)
      if (!folder.paused) this.startRunner(folder)
      added.push(config.id)
      this.exchange.introduceToAll(config.id)
    }
    return { added, removed }
  }

  /** Stops scanning, watching and pulling the folder (a pull under way finishes first); its files are left alone. */
  async pause (id: string): Promise<SyncFolderStatus> {
    const folder = this.folder(id)
    if (!folder.paused) {
      folder.paused = true
      await folder.runner.stop()
      await this.pulls.forget(id)
      this.init.log(`folder ${id} paused`)
      // Listeners (the UI) learn of it as of any state change; status() says 'paused'.
      this.safeDispatchEvent('state', { detail: folder.runner.status() })
    }
    return this.statusOf(folder)
  }

  /** Scans the folder again (catching up on what changed meanwhile), then pulls what peers changed. */
  async resume (id: string): Promise<SyncFolderStatus> {
    const folder = this.folder(id)
    if (folder.paused) {
      folder.paused = false
      folder.scanned = false
      folder.runner = this.newRunner(folder.config)
      this.startRunner(folder)
      this.init.log(`folder ${id} resumed`)
    }
    return this.statusOf(folder)
  }

  /** The folder's version history under its policy; a policy that cannot be (config.json edited by hand) is said, and the default kept. */
  private historyOf (config: FolderConfig): VersionHistory {
    try {
      return openVersionHistory(config.path, config.versions)
    } catch (err) {
      this.init.log(`folder ${config.id}: its version retention is not valid (${(err as Error).message}); keeping the default`)
      return openVersionHistory(config.path)
    }
  }

  private newRunner (config: FolderConfig): FolderRunner {
    return new FolderRunner({ id: config.id, path: config.path, label: config.label, index: this.init.index, rescanMs: this.init.rescanMs, watch: this.init.watch })
  }

  /** Starts the folder's scanner and watcher; pulls follow its first scan. */
  private startRunner (folder: SyncedFolder): void {
    const { runner } = folder
    const id = folder.config.id
    runner.addEventListener('scanned', () => { this.changedLocally(id) })
    runner.addEventListener('state', (evt) => {
      this.safeDispatchEvent('state', { detail: evt.detail })
      if (evt.detail.state !== 'idle' || folder.scanned || folder.runner !== runner) return
      // Pulls wait for the first scan: until then a file on disk is unknown to the index.
      folder.scanned = true
      this.changedLocally(id)
      this.pulls.schedule(id)
    })
    runner.start()
  }

  async confirmDeletions (id: string): Promise<SyncFolderStatus> {
    const folder = this.unpaused(id)
    await folder.runner.confirmDeletions()
    return this.statusOf(folder)
  }

  /** Scans a folder now (the CLI's `folder rescan`, tests) and resolves when it is done. */
  async scanNow (id: string): Promise<SyncFolderStatus> {
    const folder = this.unpaused(id)
    await folder.runner.scanNow()
    return this.statusOf(folder)
  }

  /** Adds or changes a member (owner only); the new record goes out to every member at once. */
  async share (id: string, member: { deviceId: string } | { user: string }, role: 'editor' | 'viewer' | 'remove'): Promise<MembershipRecord> {
    const held = this.init.memberships.get(id)
    if (held === undefined || !this.folders.has(id)) throw new NotConfiguredError(`no folder "${id}" on this device; \`aerie status\` lists them`)
    if (held.record.owner !== this.init.deviceId) {
      throw new NotConfiguredError(`only the folder's owner, device ${held.record.owner}, can change who shares folder "${id}"`)
    }
    const change: MemberChange = role === 'remove' ? { ...member, remove: true as const } : { ...member, role }
    const next = changeMember(held, change, { ownerKeyPem: this.init.keyPem, ownerCertificate: this.init.certificate })
    await this.init.memberships.put(next)
    const whom = 'user' in member ? `every device of ${member.user}` : `device ${member.deviceId}`
    this.init.log(`folder ${id}: ${role === 'remove' ? `removed ${whom}` : `shared with ${whom} as ${role}`} (membership version ${next.record.version})`)
    this.exchange.introduceToAll(id)
    return next.record
  }

  /** The versions the team server keeps of a path of the folder (`aerie versions` when this device has none). */
  async serverVersions (id: string, path: string): Promise<ServerVersion[]> {
    // Without a team server there is nothing more to ask.
    if (this.init.teamServer?.() === undefined) return []
    const answer = await askServerVersions(this.teamServerLink(id), { type: 'list', folder: id, path })
    return answer.type === 'versions' ? answer.versions : [answer.version]
  }

  /** Asks the team server to make the version current at `at` the file's newest; it then syncs here like any change. */
  async serverRestore (id: string, path: string, at: Date): Promise<ServerVersion> {
    const answer = await askServerVersions(this.teamServerLink(id), { type: 'restore', folder: id, path, at: at.toISOString() })
    if (answer.type !== 'restored') throw new ProtocolError('the team server answered a restore with a list')
    return answer.version
  }

  private teamServerLink (id: string): Connection {
    this.folder(id)
    const server = this.init.teamServer?.()
    if (server === undefined) throw new NotConfiguredError('this device has not met a team server: only the versions kept here exist')
    const link = this.exchange.membersOnline(id).find(l => l.deviceId === server)
    if (link === undefined) throw new NotConfiguredError(`the team server (${server}) is not connected, or does not keep folder "${id}"; try again when it is online`)
    return link.connection
  }

  offers (): FolderOffer[] {
    return this.exchange.offers()
  }

  folderStatus (): SyncFolderStatus[] {
    return [...this.folders.values()].map(folder => this.statusOf(folder))
  }

  /** Changes the chunk bandwidth limits (bytes per second, 0: none) for every peer, at once. */
  /** The share of a folder's disk (%) pulls keep free from now on. */
  setMinDiskFree (percent: number): void {
    this.minDiskFree = percent
  }

  setLimits (limits: { upload?: number, download?: number }): void {
    if (limits.upload !== undefined) this.bandwidth.upload.setRate(limits.upload)
    if (limits.download !== undefined) this.bandwidth.download.setRate(limits.download)
  }

  /** What the limits did: bytes, and how many of them had to wait and for how long. */
  bandwidthStats (): { upload: TokenBucketStats, download: TokenBucketStats } {
    return { upload: this.bandwidth.upload.stats(), download: this.bandwidth.download.stats() }
  }

  peerCounters (deviceId: string): PeerCounters {
    return this.exchange.countersOf(deviceId)
  }

  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all([...this.folders.values()].map(async folder => { await folder.runner.stop() }))
    await this.pulls.stop()
    await this.exchange.stop()
    await this.localChunks.close()
  }

  private unpaused (id: string): SyncedFolder {
    const folder = this.folder(id)
    if (folder.paused) throw new NotConfiguredError(`folder "${id}" is paused; \`aerie folder resume ${id}\` first`)
    return folder
  }

  private folder (id: string): SyncedFolder {
    const folder = this.folders.get(id)
    if (folder === undefined) throw new NotConfiguredError(`no folder "${id}" on this device; \`aerie status\` lists them`)
    return folder
  }

  private statusOf (folder: SyncedFolder): SyncFolderStatus {
    const base = folder.runner.status()
    const membership = this.init.memberships.get(folder.config.id)?.record
    if (folder.need === undefined || (folder.need.stale && Date.now() - folder.need.at >= NEED_REFRESH_MS)) {
      folder.need = { ...needTotals(neededItems(this.init.index, folder.config.id, folder.runner.ignores)), at: Date.now(), stale: false }
    }
    const caughtUp = this.exchange.caughtUp(folder.config.id)
    const pulling = this.pulls.isPulling(folder.config.id) && folder.need.needFiles > 0
    const status: SyncFolderStatus = {
      ...base,
      state: folder.paused ? 'paused' : base.state === 'idle' && pulling ? 'syncing' : base.state,
      needFiles: folder.need.needFiles,
      needBytes: folder.need.needBytes,
      // A need count that predates the last change cannot vouch for being in sync.
      inSync: !folder.paused && base.state === 'idle' && !folder.need.stale && folder.need.needFiles === 0 && caughtUp,
      members: membership?.members ?? [],
      users: membership?.users ?? [],
      pullProblems: folder.problems.slice(0, 100)
    }
    if (membership !== undefined) {
      status.owner = membership.owner
      const role = roleOf(membership, { deviceId: this.init.deviceId, user: this.user })
      if (role !== undefined) status.role = role
    }
    if (folder.progress !== undefined && this.pulls.isPulling(folder.config.id)) status.pull = folder.progress
    const retry = this.pulls.nextRetry(folder.config.id)
    if (retry !== undefined) status.nextRetryAt = retry.toISOString()
    return status
  }

  /** A folder set up here gets its membership: the pending offer it answers, or a new record we own. */
  private async ensureMembership (config: FolderConfig): Promise<void> {
    const { memberships } = this.init
    if (memberships.get(config.id) !== undefined) return
    const offer = this.exchange.offerOf(config.id)
    if (offer !== undefined) {
      await memberships.offer(offer, offer.record.owner)
      this.init.log(`folder ${config.id}: joined, owned by device ${offer.record.owner}`)
      return
    }
    let record = createMembership({ folder: config.id, label: config.label, ownerKeyPem: this.init.keyPem, ownerCertificate: this.init.certificate })
    const server = this.init.teamServer?.()
    if (server !== undefined && server !== this.init.deviceId) {
      record = changeMember(record, { deviceId: server, role: 'editor' }, { ownerKeyPem: this.init.keyPem })
      this.init.log(`folder ${config.id}: kept in the team server's central copy too (\`aerie folder unshare ${config.id} ${server}\` stops that)`)
    }
    await memberships.put(record)
  }

  // ---- local changes and pulls -----------------------------------------------------------

  private changedLocally (id: string): void {
    this.invalidate(id)
    this.exchange.announce(id)
  }

  private invalidate (id: string): void {
    const need = this.folders.get(id)?.need
    if (need !== undefined) need.stale = true
  }

  /** One pull of the folder; true when something is left to try again. */
  private async runPull (id: string): Promise<boolean> {
    const folder = this.folders.get(id)
    if (folder === undefined || this.stopped) return false
    const { path } = folder.config
    const state = folder.runner.status().state
    // A folder that is missing, unmounted or under a brake is not written to.
    if (state === 'needs-confirmation' || state === 'error' || await readFolderMarker(path) === undefined) return false
    try {
      const result = await pullFolder({
        folder: id,
        root: path,
        index: this.init.index,
        history: folder.history,
        localChunks: this.localChunks,
        ignores: folder.runner.ignores,
        fetchChunk: async (hash, size, device) => await this.exchange.fetchChunk(id, hash, size, device),
        room: new DiskRoom({ path, keepFree: this.minDiskFree / 100 }),
        onProgress: (progress) => {
          folder.progress = progress
          this.safeDispatchEvent('progress', { detail: progress })
        }
      })
      folder.problems = result.problems
      this.invalidate(id)
      if (result.doneFiles > 0) {
        this.changedLocally(id)
        this.safeDispatchEvent('pulled', { detail: { ...result, problems: result.problems.length } })
        this.pruneVersions(folder)
      }
      for (const problem of result.problems.slice(0, 5)) this.init.log(`folder ${id}: could not sync ${problem.path}: ${problem.message}`)
      return result.problems.length > 0 || result.skipped > 0
    } catch (err) {
      this.init.log(`folder ${id}: pull failed: ${(err as Error).message}`)
      return true
    } finally {
      folder.progress = undefined
    }
  }

  /** Applies the version history's retention after pulls, at most every PRUNE_EVERY_MS. */
  private pruneVersions (folder: SyncedFolder): void {
    if (Date.now() - folder.lastPrune < PRUNE_EVERY_MS) return
    folder.lastPrune = Date.now()
    folder.history.prune().catch((err: Error) => { this.init.log(`folder ${folder.config.id}: could not prune old versions: ${err.message}`) })
  }
}
