import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import { AerieError } from '@aerie/core'
import { USAGE } from './usage.ts'

export class UsageError extends AerieError {
  constructor (message: string) { super('ERR_USAGE', `${message}\n\n${USAGE}`) }
}

/** parseArgs with Aerie's conventions: strict, and positionals counted. */
export function parse (args: string[], options: ParseArgsOptionsConfig, positionals: { min: number, max: number, names: string }): { values: Record<string, string | string[] | boolean | undefined>, positionals: string[] } {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(positionals.min === 0 && positionals.max === 0 ? 'this command takes no arguments' : `expected ${positionals.names}`)
  }
  return { values: parsed.values as Record<string, string | string[] | boolean | undefined>, positionals: parsed.positionals }
}

/** Parses durations like 30m, 24h, 7d. */
export function parseDuration (text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim())
  if (match == null) throw new UsageError(`"${text}" is not a duration; use e.g. 30m, 24h or 7d`)
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd']
  return Number(match[1]) * unit
}
