import { InvalidInputError } from '../errors.ts'

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Durations as people write them in flags and settings: 90s, 30m, 24h, 7d. */
export function parseDuration (text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim())
  if (match == null) throw new InvalidInputError(`"${text}" is not a duration; use e.g. 30m, 24h or 7d`)
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}
