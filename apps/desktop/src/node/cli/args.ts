import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'
import { AerieError, parseDuration as parseCoreDuration } from '@aerie/core/basics'
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

/** A duration flag (30m, 24h, 7d); a malformed one is a usage error. */
export function parseDuration (text: string): number {
  try {
    return parseCoreDuration(text)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}
