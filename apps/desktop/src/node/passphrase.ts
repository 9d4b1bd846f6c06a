import { readFile } from 'node:fs/promises'
import { CaLockedError } from '@aerie/core'

/**
 * The CA passphrase, from (in order) --passphrase-file, AERIE_CA_PASSPHRASE, or a
 * hidden prompt when a person is at the terminal.
 */
export async function caPassphrase (options: { file?: string, confirm?: boolean, required: boolean }): Promise<string | undefined> {
  if (options.file != null) return (await readFile(options.file, 'utf8')).replace(/\r?\n$/, '')
  const fromEnv = process.env.AERIE_CA_PASSPHRASE
  if (fromEnv != null && fromEnv !== '') return fromEnv
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const first = await promptHidden('CA passphrase: ')
    if (options.confirm === true && first !== await promptHidden('Repeat the passphrase: ')) {
      throw new CaLockedError('the two passphrases differ; run the command again')
    }
    return first
  }
  if (!options.required) return undefined
  throw new CaLockedError('the CA passphrase is needed: set AERIE_CA_PASSPHRASE or pass --passphrase-file FILE')
}

/** Asks at the terminal without echoing what is typed. */
export async function promptHidden (question: string): Promise<string> {
  process.stderr.write(question)
  const stdin = process.stdin
  stdin.setRawMode(true)
  stdin.resume()
  return await new Promise<string>((resolve, reject) => {
    let answer = ''
    const onData = (data: Buffer): void => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') { done(); resolve(answer); return }
        if (char === '\u0003') { done(); reject(new CaLockedError('cancelled')); return }
        if (char === '\u007f') answer = answer.slice(0, -1)
        else answer += char
      }
    }
    const done = (): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    stdin.on('data', onData)
  })
}
