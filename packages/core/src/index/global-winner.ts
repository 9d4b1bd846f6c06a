import { compareVersions } from './version-vector.ts'
import type { VersionVector } from './version-vector.ts'

/** One device's record of a path, with what the choice needs. */
export interface Contender {
  /** 'local' or a remote device id. */
  device: string
  version: VersionVector
  /** The vector's canonical text (encodeVersion), as stored. */
  versionKey: string
  deleted: boolean
  mtimeMs: number
  modifiedBy: string
}

/**
 * The global version of a path: the newest by version vector. Among concurrent ones it is
 * decided from the records alone, so every device picks the same: an existing file beats a
 * deletion (nothing a user wrote is lost), then the later mtime, then the larger modifiedBy.
 * `conflicts` are the other concurrent newest versions, one entry per distinct version.
 */
export function pickGlobal<T extends Contender> (contenders: readonly T[]): { winner: T, conflicts: T[] } | undefined {
  const newest = contenders.filter(c => !contenders.some(other => compareVersions(c.version, other.version) === 'older'))
  newest.sort(byRank)
  const winner = newest[0]
  if (winner === undefined) return undefined
  const seen = new Set([winner.versionKey])
  const conflicts: T[] = []
  for (const c of newest) {
    if (seen.has(c.versionKey)) continue
    seen.add(c.versionKey)
    conflicts.push(c)
  }
  return { winner, conflicts }
}

/** Negative when `a` ranks before (wins over) `b`. */
function byRank (a: Contender, b: Contender): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1
  if (a.mtimeMs !== b.mtimeMs) return b.mtimeMs - a.mtimeMs
  if (a.modifiedBy !== b.modifiedBy) return a.modifiedBy > b.modifiedBy ? -1 : 1
  // Only a misbehaving device makes two versions tie this far; still decide the same everywhere.
  if (a.versionKey !== b.versionKey) return a.versionKey > b.versionKey ? -1 : 1
  // The same version held by several devices: name ourselves, then the smallest device id.
  if (a.device === 'local' || b.device === 'local') return a.device === 'local' ? -1 : 1
  return a.device < b.device ? -1 : a.device > b.device ? 1 : 0
}
