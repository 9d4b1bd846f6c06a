import { InvalidInputError, openVersionHistory } from '@aerie/core'
import type { FileVersion, ServerVersion } from '@aerie/core'

/**
 * Old versions of a folder's files, for the CLI (`aerie versions`) and the UI alike: those
 * this device kept (packages/core/src/sync/version-history.ts) and, when the history has
 * nothing, the team server's central copy.
 */
export interface VersionTarget {
  /** The folder's root on disk. */
  root: string
  /** The folder path: '/'-separated, NFC; '' for the folder root. */
  rel: string
  kind: 'directory' | 'file' | 'missing'
}

export type Restored = { local: FileVersion } | { server: ServerVersion }

/** The versions of a file or, for a directory (also one deleted since), of every file under it. */
export async function versionsOf (target: VersionTarget): Promise<FileVersion[]> {
  const history = openVersionHistory(target.root)
  if (target.kind !== 'directory' && target.rel !== '') {
    const own = await history.list(target.rel)
    if (own.length > 0 || target.kind === 'file') return own
  }
  const all = await history.listAll()
  if (target.rel === '') return all
  return all.filter(v => v.path === target.rel || v.path.startsWith(`${target.rel}/`))
}

/**
 * Brings back the content current at `at` as a new change. Not kept here, the team server
 * may have it (`askServer`; undefined when it cannot be asked): it restores it as a change
 * that syncs back. `directoryAdvice` is what to say when the path is a directory.
 */
export async function restoreVersion (target: VersionTarget, at: Date, askServer: () => Promise<ServerVersion | undefined>, directoryAdvice?: string): Promise<Restored> {
  const history = openVersionHistory(target.root)
  if (target.kind === 'directory' || (target.kind === 'missing' && (await history.list(target.rel)).length === 0 && (await versionsOf(target)).length > 0)) {
    throw new InvalidInputError(directoryAdvice ?? `"${target.rel}" is a directory: restore its files one at a time`)
  }
  try {
    return { local: await history.restore(target.rel, at) }
  } catch (err) {
    if (!(err instanceof InvalidInputError) || /directory|parent/.test(err.message)) throw err
    const restored = await askServer().catch((serverErr: Error) => { throw new InvalidInputError(`${err.message}; and the team server: ${serverErr.message}`) })
    if (restored === undefined) throw err
    return { server: restored }
  }
}
