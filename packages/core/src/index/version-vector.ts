/** deviceId -> counter. A missing device counts as 0. */
export type VersionVector = Readonly<Record<string, number>>

export type VersionOrder = 'equal' | 'newer' | 'older' | 'concurrent'

/** How `a` relates to `b`: newer when it has seen everything `b` has and more. */
export function compareVersions (a: VersionVector, b: VersionVector): VersionOrder {
  let aAhead = false
  let bAhead = false
  for (const key of Object.keys(a)) {
    const diff = counter(a, key) - counter(b, key)
    if (diff > 0) aAhead = true
    else if (diff < 0) bAhead = true
  }
  for (const key of Object.keys(b)) {
    if (counter(b, key) > counter(a, key)) bAhead = true
  }
  if (aAhead) return bAhead ? 'concurrent' : 'newer'
  return bAhead ? 'older' : 'equal'
}

/** The smallest vector that has seen everything both have. */
export function mergeVersions (a: VersionVector, b: VersionVector): VersionVector {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  // fromEntries, not assignment, so a device id like '__proto__' stays an ordinary key.
  return Object.fromEntries([...keys].map(key => [key, Math.max(counter(a, key), counter(b, key))]).filter(([, n]) => Number(n) > 0))
}

/**
 * The vector after `deviceId` changes the file. Like Syncthing, the counter is at least the
 * current Unix second, so counters stay meaningful after a device's database is lost.
 */
export function bumpVersion (v: VersionVector, deviceId: string, now: number = Date.now()): VersionVector {
  const next = Math.max(counter(v, deviceId) + 1, Math.floor(now / 1000))
  return Object.fromEntries([...Object.entries(v).filter(([key]) => key !== deviceId), [deviceId, next]])
}

/** One text per vector (sorted keys, no zero counters), so equal vectors compare equal in SQL. */
export function encodeVersion (v: VersionVector): string {
  const entries = Object.keys(v).filter(key => counter(v, key) > 0).sort().map(key => [key, counter(v, key)])
  return JSON.stringify(Object.fromEntries(entries))
}

export function decodeVersion (text: string): VersionVector {
  return JSON.parse(text) as VersionVector
}

/** Why `v` is not a version vector, or undefined when it is one. */
export function versionProblem (v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the version is not a map of device ids to counters'
  for (const [key, value] of Object.entries(v)) {
    if (key === '') return 'the version names an empty device id'
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return `the version counter for ${key} is not a whole number >= 0`
  }
  return undefined
}

function counter (v: VersionVector, key: string): number {
  return Object.hasOwn(v, key) ? v[key] ?? 0 : 0
}
