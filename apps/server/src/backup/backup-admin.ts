import { randomBytes } from 'node:crypto'
import { chooseSnapshots, InvalidInputError, TokenBucket } from '@aerie/core'
import type { BackupRetention, ChunkStore, ChunkStoreStats } from '@aerie/core'
import { NotFoundError } from '../accounts/errors.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { GcReport } from './chunk-gc.ts'
import type { ScrubProgress } from './scrub.ts'
import { DEFAULT_SCOPE } from '../metadata/stores.ts'
import type { BackupHoldRecord, BackupRestoreGrantRecord, BackupRetentionRecord, BackupSnapshotRecord, BackupStore, ScrubReport } from '../metadata/stores.ts'
import { snapshotBrowser } from './snapshot-browser.ts'
import type { SnapshotBrowser } from './snapshot-browser.ts'

/**
 * What only the server (and its admins) do to endpoint backups: retention (forgetting snapshot
 * records a policy no longer keeps), legal holds that stop it, restore grants (a device may open
 * another device's snapshot) and scrubs. A device never reaches any of this: /aerie/backup/1.1.0
 * has no message that deletes. Forgetting removes records only; a garbage collection
 * (chunk-gc.ts) later gives back the space of chunks nothing needs any more.
 */
export interface BackupAdminInit {
  snapshots: BackupStore
  audit: AuditLog
  /** Runs a scrub over the server's store (scrub.ts); absent where there is no store (tests of the web layer). */
  scrub?: (onProgress: (progress: ScrubProgress) => void, pace: TokenBucket) => Promise<ScrubReport>
  /** The rate (bytes/s) a paced scrub reads the store at (ServerConfig.scrubRate); 0 or absent: full speed. */
  scrubRate?: number
  /** The server's chunk store, which browsing and downloading a snapshot read; absent where there is none (tests of the web layer). */
  store?: ChunkStore
  /** Runs a garbage collection over the server's store (chunk-gc.ts); absent where there is no store. */
  collect?: () => Promise<GcReport>
  /** The disk the store is on: free and total bytes, and what the store keeps free of it (statfs); absent where there is no store. */
  disk?: () => Promise<DiskSpace>
  /** Since when the store has refused backups for want of space (BackupService.storeFullSince). */
  fullSince?: () => Date | undefined
  log(line: string): void
  now?(): Date
}

export interface BackupAdmin {
  /** Oldest first; one device's or everyone's. For the admin API and console. */
  snapshots(deviceId?: string): BackupSnapshotRecord[]
  /** One snapshot by its whole id. */
  snapshot(id: string): BackupSnapshotRecord | undefined
  /** A device's own policy (or the default's, scope DEFAULT_SCOPE), undefined when none is set. */
  retention(scope: string): BackupRetention | undefined
  /** Every policy set, by scope (DEFAULT_SCOPE for the default). */
  retentionPolicies(): Array<BackupRetentionRecord & { scope: string }>
  setRetention(scope: string, policy: BackupRetention | undefined, actor: string): void
  holds(): BackupHoldRecord[]
  setHold(kind: BackupHoldRecord['kind'], subject: string, reason: string, actor: string): BackupHoldRecord
  liftHold(kind: BackupHoldRecord['kind'], subject: string): boolean
  /**
   * Whether a snapshot's device or user is on hold (nothing of theirs is forgotten while it is),
   * as the holds stand now: read once, for as many snapshots as needed.
   */
  holdTest(): (snapshot: { deviceId: string, user: string }) => boolean
  /** Applies every device's policy (or one device's); returns the forgotten snapshots. */
  applyRetention(filter?: { deviceId?: string }): BackupSnapshotRecord[]
  /** Lets `toDevice` open (and restore) `snapshotId` until `ttlMs` from now. */
  grantRestore(snapshotId: string, toDevice: string, ttlMs: number, actor: string): BackupRestoreGrantRecord
  /** Grants that have not expired, oldest first. */
  restoreGrants(): BackupRestoreGrantRecord[]
  /** Ends an unexpired grant at once (NotFoundError when there is none): its device can no longer open the snapshot. */
  revokeRestoreGrant(id: string): BackupRestoreGrantRecord
  /** Reads a snapshot's directories and files on the server (snapshot-browser.ts); refused where there is no store. */
  browse(): SnapshotBrowser
  /**
   * Runs a scrub, or joins the one running; `onProgress` hears how far it is until it ends.
   * `paced` (the daily scrub): it reads at `scrubRate`; an ask that is not paced runs at full
   * speed, and lifts the pace of a paced scrub it joins.
   */
  scrub(onProgress?: (progress: ScrubProgress) => void, options?: { paced?: boolean }): Promise<ScrubReport>
  /** How far the running scrub is; undefined when none runs. */
  scrubProgress(): ScrubProgress | undefined
  lastScrub(): ScrubReport | undefined
  /** Frees the chunks no snapshot, central-copy file or backup in progress needs; one at a time. */
  collectGarbage(): Promise<GcReport>
  /** The last collection's report since the server started (each is in the audit log too). */
  lastGc(): GcReport | undefined
  /** What the store holds and how much room its disk has left; refused where there is no store. */
  space(): Promise<StoreSpace>
}

export interface DiskSpace { free: number, total: number, kept: number }

export interface StoreSpace {
  /** Chunks stored, their plain bytes (each once: after dedupe), and the bytes their packs take (after compression). */
  store: ChunkStoreStats
  disk: DiskSpace
  /** Since when backups have been refused for want of space (ISO time); null while they are not. */
  fullSince: string | null
}

export function backupAdmin (init: BackupAdminInit): BackupAdmin {
  const { snapshots, audit } = init
  const now = (): Date => init.now?.() ?? new Date()
  const browser = init.store === undefined ? undefined : snapshotBrowser({ store: init.store, snapshots })
  let scrubbing: Promise<ScrubReport> | undefined
  let scrubProgress: ScrubProgress | undefined
  const scrubPace = new TokenBucket({ rate: 0 })
  const scrubWatchers = new Set<(progress: ScrubProgress) => void>()
  let collecting: Promise<GcReport> | undefined
  let lastGc: GcReport | undefined

  const admin: BackupAdmin = {
    snapshots: deviceId => snapshots.listSnapshots(deviceId === undefined ? {} : { deviceId }),
    snapshot: id => snapshots.snapshot(id),
    retention: scope => snapshots.retention(scope)?.policy,
    retentionPolicies: () => snapshots.retentionPolicies(),
    setRetention (scope, policy, actor) {
      snapshots.setRetention(scope, policy === undefined ? undefined : { policy, setBy: actor, setAt: now() })
    },
    holds: () => snapshots.holds(),
    setHold (kind, subject, reason, actor) {
      if (subject === '') throw new InvalidInputError('a hold needs a device id or a user\'s e-mail')
      snapshots.setHold({ kind, subject, reason, setBy: actor, setAt: now() })
      return snapshots.holds().find(h => h.kind === kind && h.subject === (kind === 'user' ? subject.toLowerCase() : subject))!
    },
    liftHold: (kind, subject) => snapshots.liftHold(kind, subject),
    holdTest () {
      const holds = snapshots.holds()
      return snapshot => holds.some(h => (h.kind === 'device' && h.subject === snapshot.deviceId) || (h.kind === 'user' && h.subject === snapshot.user.toLowerCase()))
    },
    applyRetention (filter = {}) {
      const byDevice = new Map<string, BackupSnapshotRecord[]>()
      for (const s of snapshots.listSnapshots(filter)) byDevice.set(s.deviceId, [...(byDevice.get(s.deviceId) ?? []), s])
      const policies = new Map(snapshots.retentionPolicies().map(r => [r.scope, r.policy]))
      const held = admin.holdTest()
      // A snapshot another device may restore under a grant in force is kept until the grant ends.
      const granted = new Set(snapshots.allRestoreGrants(now()).map(g => g.snapshotId))
      const forgotten: BackupSnapshotRecord[] = []
      for (const [deviceId, mine] of byDevice) {
        // The device's own policy, else its user's (every device of theirs), else the default.
        const policy = policies.get(deviceId) ?? policies.get(userScope(mine[0]!.user)) ?? policies.get(DEFAULT_SCOPE)
        if (policy === undefined) continue
        // Held if any of its snapshots' users is (a device keeps its user, but be sure).
        if (mine.some(held)) continue
        const choice = chooseSnapshots(mine.map(s => ({ id: s.id, time: s.committedAt })), policy)
        for (const id of choice.forget) {
          if (granted.has(id)) continue
          const record = mine.find(s => s.id === id)!
          if (!snapshots.forgetSnapshot(id)) continue
          forgotten.push(record)
          audit.record({
            actor: 'retention',
            action: 'backup.snapshot_forgotten',
            target: id,
            detail: { device: deviceId, user: record.user, committedAt: record.committedAt.toISOString(), policy: JSON.stringify(policy) }
          }, now())
        }
      }
      if (forgotten.length > 0) init.log(`backup retention: forgot ${forgotten.length} snapshot${forgotten.length === 1 ? '' : 's'} (records only; the next garbage collection frees the chunks no snapshot needs any more)`)
      return forgotten
    },
    grantRestore (snapshotId, toDevice, ttlMs, actor) {
      const snapshot = snapshots.snapshot(snapshotId)
      if (snapshot === undefined) throw new NotFoundError(`there is no snapshot ${snapshotId}; GET /api/v1/backup/snapshots lists them (give the whole id)`)
      const at = now()
      const grant = { id: randomBytes(8).toString('hex'), snapshotId: snapshot.id, deviceId: toDevice, grantedBy: actor, grantedAt: at, expiresAt: new Date(at.getTime() + ttlMs) }
      snapshots.addRestoreGrant(grant)
      return grant
    },
    restoreGrants: () => snapshots.allRestoreGrants(now()),
    revokeRestoreGrant (id) {
      const grant = snapshots.allRestoreGrants(now()).find(g => g.id === id)
      if (grant === undefined || !snapshots.revokeRestoreGrant(id)) throw new NotFoundError(`there is no restore grant ${id} in force (it may have expired); GET /api/v1/backup/restore-grants lists them`)
      return grant
    },
    browse () {
      if (browser === undefined) throw new InvalidInputError('this server has no chunk store to read snapshots from')
      return browser
    },
    async scrub (onProgress, options = {}) {
      const scrub = init.scrub
      if (scrub === undefined) throw new InvalidInputError('this server has no chunk store to scrub')
      const pace = options.paced === true ? init.scrubRate ?? 0 : 0
      // One scrub at a time: a second ask joins the running one (at full speed if it asks for that).
      if (scrubbing === undefined) {
        scrubPace.setRate(pace)
        scrubbing = scrubAndRecord(async () => await scrub(progress => {
          scrubProgress = progress
          // A watcher that fails (its caller went away) must not stop the scrub.
          for (const watcher of scrubWatchers) try { watcher(progress) } catch {}
        }, scrubPace)).finally(() => { scrubbing = undefined; scrubProgress = undefined })
      } else if (pace === 0 && scrubPace.stats().rate !== 0) {
        scrubPace.setRate(0)
        if (scrubProgress !== undefined) scrubProgress = { ...scrubProgress, pace: 0 }
      }
      if (onProgress === undefined) return await scrubbing
      scrubWatchers.add(onProgress)
      if (scrubProgress !== undefined) onProgress(scrubProgress)
      try { return await scrubbing } finally { scrubWatchers.delete(onProgress) }
    },
    scrubProgress: () => scrubProgress,
    lastScrub: () => snapshots.lastScrub(),
    async collectGarbage () {
      if (init.collect === undefined) throw new InvalidInputError('this server has no chunk store to collect')
      collecting ??= collectAndRecord(init.collect).finally(() => { collecting = undefined })
      return await collecting
    },
    lastGc: () => lastGc,
    async space () {
      if (init.store === undefined || init.disk === undefined) throw new InvalidInputError('this server has no chunk store')
      return { store: await init.store.stats(), disk: await init.disk(), fullSince: init.fullSince?.()?.toISOString() ?? null }
    }
  }
  async function collectAndRecord (collect: () => Promise<GcReport>): Promise<GcReport> {
    let report: GcReport
    try {
      report = await collect()
    } catch (err) {
      audit.record({ actor: 'garbage collection', action: 'backup.gc_failed', target: 'store', detail: { error: (err as Error).message } }, now())
      init.log(`garbage collection failed: ${(err as Error).message}`)
      throw err
    }
    lastGc = report
    audit.record({
      actor: 'garbage collection',
      action: 'backup.gc',
      target: 'store',
      detail: {
        live: report.live, swept: report.swept, sweptBytes: report.sweptBytes, spared: report.spared,
        compactedPacks: report.compacted, deletedPacks: report.deletedPacks, freedBytes: report.freedBytes,
        ...(report.skipped === undefined ? {} : { skipped: report.skipped })
      }
    }, now())
    init.log(report.skipped === undefined
      ? `garbage collection: ${report.swept} unneeded chunks (${report.sweptBytes} bytes) forgotten, ${report.spared} kept as recent, ${report.compacted} packs compacted, ${report.freedBytes} bytes freed`
      : `garbage collection: nothing swept (${report.skipped}); ${report.compacted} packs compacted, ${report.freedBytes} bytes freed`)
    return report
  }
  async function scrubAndRecord (scrub: () => Promise<ScrubReport>): Promise<ScrubReport> {
    const startedAt = now().toISOString()
    let report: ScrubReport
    try {
      report = await scrub()
    } catch (err) {
      report = { startedAt, finishedAt: now().toISOString(), checked: 0, damaged: [], snapshots: [], centralFiles: [], error: (err as Error).message }
    }
    snapshots.addScrub(report)
    audit.record({
      actor: 'scrub',
      action: report.damaged.length > 0 ? 'backup.scrub_damage' : 'backup.scrub',
      target: 'store',
      detail: {
        checked: report.checked,
        damaged: report.damaged.length,
        snapshots: report.snapshots.map(s => s.id).join(', '),
        files: report.snapshots.reduce((n, s) => n + s.files.length, 0),
        centralFiles: report.centralFiles.map(f => `${f.folder}/${f.path}`).slice(0, 20).join(', '),
        ...(report.error === undefined ? {} : { error: report.error })
      }
    }, now())
    init.log(`scrub: ${report.checked} chunks read back, ${report.damaged.length} damaged, ${report.snapshots.length} snapshots and ${report.centralFiles.length} central-copy files affected${report.error === undefined ? '' : `; it did not finish: ${report.error}`}`)
    return report
  }

  return admin
}

/**
 * Runs retention every `retentionMs`, a garbage collection every `gcMs` and a scrub every
 * `scrubMs` (each first after one period), until stopped. A failed run is logged and tried again
 * next period.
 */
export function backupMaintenance (admin: BackupAdmin, options: { retentionMs: number, gcMs: number, scrubMs: number, log(line: string): void }): { stop(): void } {
  const retention = setInterval(() => {
    try { admin.applyRetention() } catch (err) { options.log(`backup retention failed: ${(err as Error).message}`) }
  }, options.retentionMs)
  const gc = setInterval(() => {
    // A failure is logged and audited by collectGarbage itself.
    admin.collectGarbage().catch(() => {})
  }, options.gcMs)
  const scrub = setInterval(() => {
    admin.scrub(undefined, { paced: true }).catch((err: Error) => { options.log(`backup scrub failed: ${err.message}`) })
  }, options.scrubMs)
  retention.unref()
  gc.unref()
  scrub.unref()
  return { stop () { clearInterval(retention); clearInterval(gc); clearInterval(scrub) } }
}

/** The retention scope of a user's policy, which covers every device of theirs without its own. */
export function userScope (email: string): string {
  return `user:${email.toLowerCase()}`
}
