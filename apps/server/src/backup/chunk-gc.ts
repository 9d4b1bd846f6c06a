import { AerieError, chunkIdHex, formatBytes } from '@aerie/core'
import type { ChunkStore, CollectResult } from '@aerie/core'
import type { BackupStore } from '../metadata/stores.ts'
import { neededBlobs } from './needed-blobs.ts'
import type { ReadForWalk } from './needed-blobs.ts'
import type { CentralFileChunks } from './scrub.ts'

/** A collection that would have to guess what a snapshot needs does not run. */
export class GcRefusedError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_GC_REFUSED', message, options) }
}

export interface ChunkGcInit {
  store: ChunkStore
  snapshots: BackupStore
  /** Every central-copy file, current and kept in the history (TeamServer.centralFileChunks). */
  centralFiles(): Iterable<CentralFileChunks>
  /** Roots of snapshots that backups and restores in progress have open (BackupService.openRoots). */
  openRoots(): Iterable<string>
  /** How long anything stored, confirmed or read is safe from sweeping (ChunkStore.collect's graceMs). */
  graceMs: number
  /** After a sweep: what was remembered as complete may no longer be (BackupService.forgetChecked). */
  onSwept?(): void
  now?(): Date
}

export interface GcReport extends CollectResult {
  startedAt: string
  finishedAt: string
  /** Chunks that snapshots and the central copy still need. */
  live: number
}

/**
 * Gives back the space of chunks nothing needs any more: those of snapshots retention forgot and
 * of central-copy versions it pruned. What is live is everything a snapshot's directory objects
 * and chunk lists name (an unchanged subtree is walked once), every central-copy file current or
 * kept, and the snapshots that backups and restores in progress have open (a backup reuses its
 * parent's unchanged files without sending them). Everything a backup or pull in progress sends
 * or is told the server has was touched in the store, which spares it for the grace period; a
 * commit then checks every chunk again. A directory object or chunk list that cannot be read
 * stops the collection before anything is swept: what it names is unknown.
 */
export async function collectGarbage (init: ChunkGcInit, signal?: AbortSignal): Promise<GcReport> {
  const now = (): Date => init.now?.() ?? new Date()
  const startedAt = now().toISOString()
  let live = 0
  const result = await init.store.collect(async () => {
    const marked = await markLive(init, signal)
    live = marked.size
    return hash => marked.has(chunkIdHex(hash))
  }, { graceMs: init.graceMs, ...(signal === undefined ? {} : { signal }), onSwept: init.onSwept })
  return { ...result, live, startedAt, finishedAt: now().toISOString() }
}

async function markLive (init: ChunkGcInit, signal?: AbortSignal): Promise<Set<string>> {
  const read: ReadForWalk = async (id, what, of) => {
    let bytes: Uint8Array | undefined
    try {
      bytes = await init.store.get(id)
    } catch (err) {
      throw new GcRefusedError(`${what} ${chunkIdHex(id).slice(0, 16)}… of ${of} cannot be read (${(err as Error).message}); nothing was collected. Run a scrub: it names what is damaged`, { cause: err })
    }
    if (bytes === undefined) {
      throw new GcRefusedError(`${what} ${chunkIdHex(id).slice(0, 16)}… of ${of} is not in the store; nothing was collected. A backup of that device sends it again while its files are unchanged; once retention forgets that snapshot, collection runs again`)
    }
    return bytes
  }
  const roots = [
    ...[...init.openRoots()].map(root => ({ root, of: 'a snapshot being backed up or restored' })),
    ...init.snapshots.listSnapshots().map(s => ({ root: s.root, of: `snapshot ${s.id}` }))
  ]
  return await neededBlobs(roots, init.centralFiles(), read, signal)
}

/** The report as `aerie-server gc --now` prints it. */
export function formatGcReport (report: GcReport): string {
  const size = (bytes: number): string => formatBytes(Math.max(0, bytes))
  const lines = [report.skipped === undefined
    ? `gc ${report.finishedAt}: ${report.swept} unneeded ${report.swept === 1 ? 'chunk' : 'chunks'} (${size(report.sweptBytes)}) freed, ${report.spared} kept as recent, ${report.live} still needed`
    : `gc ${report.finishedAt}: nothing swept (${report.skipped}); ${report.live} chunks still needed`]
  lines.push(`  ${report.compacted} ${report.compacted === 1 ? 'pack' : 'packs'} compacted, ${report.deletedPacks} deleted: ${size(report.freedBytes)} of disk given back`)
  return lines.join('\n')
}
