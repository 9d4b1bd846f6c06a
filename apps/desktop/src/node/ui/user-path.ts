import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { InvalidInputError } from '@aerie/core'

/** A directory a person typed: a full path, `~/` allowed (the UI has no working directory). */
export function userPath (text: unknown, example = '/home/ada/Documents or ~/Documents'): string {
  const trimmed = String(text ?? '').trim()
  const expanded = trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed
  if (!isAbsolute(expanded)) throw new InvalidInputError(`give the full path, such as ${example}`)
  return expanded
}
