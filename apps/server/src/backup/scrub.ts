import { chunkIdFromHex, chunkIdHex, decodeChunkList, decodeTree, formatBytes } from '@aerie/core'
import { neededBlobs } from './needed-blobs.ts'
import type { ChunkStore, TokenBucket } from '@aerie/core'
import type { BackupStore, ScrubReport } from '../metadata/stores.ts'

/** A central-copy file (current or kept version) and the chunks it is made of. */
export interface CentralFileChunks {
  folder: string
  path: string
  version: 'current' | 'kept'
  chunks: Iterable<{ hash: Uint8Array }>
}

export interface ScrubInit {
  store: ChunkStore
  snapshots: BackupStore
  /** Every central-copy file, current and kept (TeamServer.centralFileChunks). */
  centralFiles(): Iterable<CentralFileChunks>
  now?(): Date
}

/**
 * Where a running scrub is: reading every chunk back (`checked` of about `total`), then tracing
 * what the snapshots and the central copy need (missing chunks, and who needs the damaged ones).
 */
export interface ScrubProgress {
  startedAt: string
  phase: 'reading' | 'tracing'
  checked: number
  total: number
  /** The reading's rate limit, bytes per second; 0: full speed. */
  pace: number
}

/** `where` of a chunk the store does not hold at all (its `damaged` entries are otherwise pack places). */
export const MISSING_WHERE = 'in no pack'
const HAS_BATCH = 4096

/**
 * Re-reads every chunk in the store (verify), then looks for chunks the snapshots and the
 * central copy need that the store does not hold at all (lost with a pack, or with damage an
 * index rebuild skipped), and names who needs the damaged and missing ones: each snapshot's
 * files (walking its directory objects; an unchanged subtree is walked once for all snapshots
 * that share it) and the central copy's files. A directory object or chunk list that is itself
 * damaged or missing makes everything under it affected.
 */
export async function runScrub (init: ScrubInit, options: { signal?: AbortSignal, onProgress?(progress: ScrubProgress): void, pace?: TokenBucket } = {}): Promise<ScrubReport> {
  const { signal, pace } = options
  const now = (): Date => init.now?.() ?? new Date()
  const startedAt = now().toISOString()
  let checked = 0
  let total = 0
  const tell = (phase: ScrubProgress['phase']): void => { options.onProgress?.({ startedAt, phase, checked, total, pace: pace?.stats().rate ?? 0 }) }
  tell('reading')
  const found = await init.store.verify({
    ...(signal === undefined ? {} : { signal }),
    ...(pace === undefined ? {} : { pace: async (bytes: number) => { await pace.take(bytes) } }),
    onProgress: (done, of) => {
      checked = done
      total = of
      tell('reading')
    }
  })
  total = Math.max(checked, total)
  tell('tracing')
  const damaged = new Set(found.map(d => chunkIdHex(d.hash)))
  const report: ScrubReport = {
    startedAt,
    finishedAt: '',
    checked,
    damaged: found.map(d => ({ chunk: chunkIdHex(d.hash), where: d.where, reason: d.reason })),
    snapshots: [],
    centralFiles: []
  }
  for (const chunk of await missingChunks(init, damaged, signal)) {
    damaged.add(chunk)
    report.damaged.push({ chunk, where: MISSING_WHERE, reason: 'the store does not hold it' })
  }
  if (damaged.size > 0) {
    const treeUsers = new Map<string, string[]>()
    // Paths (relative to the tree) that need a damaged blob.
    const affectedIn = async (treeId: Uint8Array): Promise<string[]> => {
      const key = chunkIdHex(treeId)
      const known = treeUsers.get(key)
      if (known !== undefined) return known
      const affected: string[] = []
      const bytes = damaged.has(key) ? undefined : await init.store.get(treeId).catch(() => undefined)
      if (bytes === undefined) {
        affected.push('(this directory: its directory object is damaged or missing)')
      } else {
        for (const entry of decodeTree(bytes)) {
          if (entry.tree !== undefined) {
            for (const p of await affectedIn(entry.tree)) affected.push(p.startsWith('(') ? `${entry.name}/ ${p}` : `${entry.name}/${p}`)
            continue
          }
          if (await fileAffected(entry.chunks, entry.lists)) affected.push(entry.name)
        }
      }
      treeUsers.set(key, affected)
      return affected
    }
    const fileAffected = async (chunks: Array<{ hash: Uint8Array }> | undefined, lists: Uint8Array[] | undefined): Promise<boolean> => {
      if (chunks?.some(c => damaged.has(chunkIdHex(c.hash))) === true) return true
      for (const list of lists ?? []) {
        if (damaged.has(chunkIdHex(list))) return true
        const bytes = await init.store.get(list).catch(() => undefined)
        if (bytes === undefined || decodeChunkList(bytes).some(c => damaged.has(chunkIdHex(c.hash)))) return true
      }
      return false
    }
    for (const s of init.snapshots.listSnapshots()) {
      signal?.throwIfAborted()
      const files = await affectedIn(Buffer.from(s.root, 'hex'))
      if (files.length > 0) {
        report.snapshots.push({ id: s.id, deviceId: s.deviceId, deviceName: s.deviceName, user: s.user, committedAt: s.committedAt.toISOString(), files })
      }
    }
    for (const file of init.centralFiles()) {
      for (const c of file.chunks) {
        if (damaged.has(chunkIdHex(c.hash))) { report.centralFiles.push({ folder: file.folder, path: file.path, version: file.version }); break }
      }
    }
  }
  report.finishedAt = now().toISOString()
  return report
}

/**
 * Ids (hex) of what the snapshots and the central copy need that the store does not hold,
 * leaving out what verify found damaged. The look does not count as a confirmation: it spares
 * nothing from garbage collection.
 */
async function missingChunks (init: ScrubInit, damaged: Set<string>, signal?: AbortSignal): Promise<string[]> {
  // What cannot be read is named as needed; what it names is not known, and its users are found affected.
  const read = async (id: Uint8Array): Promise<Uint8Array | undefined> =>
    damaged.has(chunkIdHex(id)) ? undefined : await init.store.get(id).catch(() => undefined)
  const roots = init.snapshots.listSnapshots().map(s => ({ root: s.root, of: `snapshot ${s.id}` }))
  const needed = await neededBlobs(roots, init.centralFiles(), read, signal)
  const ids = [...needed].filter(key => !damaged.has(key))
  const missing: string[] = []
  for (let i = 0; i < ids.length; i += HAS_BATCH) {
    signal?.throwIfAborted()
    const batch = ids.slice(i, i + HAS_BATCH)
    const held = await init.store.has(batch.map(chunkIdFromHex), { confirms: false })
    batch.forEach((key, j) => { if (held[j] !== true) missing.push(key) })
  }
  return missing
}

/** The report as `aerie-server scrub` prints it. */
export function formatScrubReport (report: ScrubReport): string {
  const missing = report.damaged.filter(d => d.where === MISSING_WHERE).length
  const lines = [`scrub ${report.finishedAt}: ${report.checked} chunks read back, ${report.damaged.length - missing} damaged${missing > 0 ? `, ${missing} missing` : ''}`]
  if (report.error !== undefined) lines.push(`  the scrub did not finish: ${report.error}`)
  for (const d of report.damaged) {
    lines.push(d.where === MISSING_WHERE ? `  missing chunk ${d.chunk.slice(0, 16)}…: ${d.reason}` : `  damaged chunk ${d.chunk.slice(0, 16)}… at ${d.where}: ${d.reason}`)
  }
  for (const s of report.snapshots) {
    lines.push(`  snapshot ${s.id} of ${s.deviceName} (${s.deviceId}, ${s.user}, ${s.committedAt}): ${s.files.length} ${s.files.length === 1 ? 'file' : 'files'} affected`)
    for (const f of s.files.slice(0, 50)) lines.push(`    ${f}`)
    if (s.files.length > 50) lines.push(`    … and ${s.files.length - 50} more`)
  }
  for (const f of report.centralFiles) lines.push(`  central copy ${f.folder}/${f.path} (${f.version === 'current' ? 'current version' : 'a kept version'}) affected`)
  if (report.damaged.length > 0) lines.push('  a device that still has these files repairs the store by syncing or backing them up again (the next put replaces a damaged chunk, or stores a missing one)')
  return lines.join('\n')
}

/** One line of a scrub's progress, with an estimate of the time left from its pace so far. */
export function scrubProgressLine (progress: ScrubProgress, now: Date): string {
  if (progress.phase === 'tracing') return `scrub: ${progress.checked} chunks read back; now tracing what the snapshots and the central copy need`
  const { checked, total } = progress
  const percent = total > 0 ? Math.floor(100 * checked / total) : 0
  const seconds = (now.getTime() - Date.parse(progress.startedAt)) / 1000
  const left = checked > 0 && total > checked ? Math.ceil(seconds * (total - checked) / checked) : undefined
  const paced = progress.pace > 0 ? ` (paced at ${formatBytes(progress.pace)}/s)` : ''
  return `scrub: reading back every chunk${paced}: ${checked} of ${total} (${percent}%)${left === undefined ? '' : `, about ${left} s left`}`
}
