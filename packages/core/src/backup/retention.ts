/**
 * Which snapshots a retention policy keeps, with restic's `forget` semantics: the newest `last`
 * snapshots, and the newest snapshot in each of the newest `hourly` hours, `daily` days,
 * `weekly` ISO weeks and `monthly` months that hold one (UTC, so the answer does not depend on
 * where the server runs). A snapshot kept for any reason is kept. A policy that keeps nothing
 * (every count 0) keeps everything: forgetting must be asked for, never the default.
 */
export interface BackupRetention {
  last: number
  hourly: number
  daily: number
  weekly: number
  monthly: number
}

export const RETENTION_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly'] as const
export type RetentionRule = typeof RETENTION_RULES[number]

export interface RetentionChoice {
  /** Ids kept, each with the rules that keep it. */
  keep: Map<string, RetentionRule[]>
  /** Ids the policy lets go, oldest first. */
  forget: string[]
}

export function isEmptyRetention (policy: BackupRetention): boolean {
  return RETENTION_RULES.every(rule => policy[rule] === 0)
}

export function chooseSnapshots (snapshots: ReadonlyArray<{ id: string, time: Date }>, policy: BackupRetention): RetentionChoice {
  const newestFirst = [...snapshots].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1))
  const keep = new Map<string, RetentionRule[]>()
  const mark = (id: string, rule: RetentionRule): void => { keep.set(id, [...(keep.get(id) ?? []), rule]) }
  if (isEmptyRetention(policy)) {
    for (const s of newestFirst) keep.set(s.id, [])
    return { keep, forget: [] }
  }
  for (const s of newestFirst.slice(0, policy.last)) mark(s.id, 'last')
  for (const rule of ['hourly', 'daily', 'weekly', 'monthly'] as const) {
    let left = policy[rule]
    let previous: string | undefined
    for (const s of newestFirst) {
      if (left <= 0) break
      const bucket = bucketOf(rule, s.time)
      if (bucket === previous) continue
      previous = bucket
      mark(s.id, rule)
      left--
    }
  }
  const forget = newestFirst.filter(s => !keep.has(s.id)).map(s => s.id).reverse()
  return { keep, forget }
}

function bucketOf (rule: 'hourly' | 'daily' | 'weekly' | 'monthly', time: Date): string {
  const iso = time.toISOString()
  switch (rule) {
    case 'hourly': return iso.slice(0, 13)
    case 'daily': return iso.slice(0, 10)
    case 'monthly': return iso.slice(0, 7)
    case 'weekly': {
      // ISO 8601 week: the week belongs to the year of its Thursday.
      const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()))
      const weekday = (day.getUTCDay() + 6) % 7
      day.setUTCDate(day.getUTCDate() - weekday + 3)
      const firstThursday = new Date(Date.UTC(day.getUTCFullYear(), 0, 4))
      const week = 1 + Math.round(((day.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7)
      return `${day.getUTCFullYear()}-W${week}`
    }
  }
}
