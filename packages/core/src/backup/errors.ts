import { AerieError } from '../errors.ts'

/** No snapshot with this id (among the device's own), or no such path inside it. */
export class SnapshotNotFoundError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_SNAPSHOT_NOT_FOUND', message, options) }
}

/** A snapshot refers to a directory object or chunk the repository does not hold: it is not accepted. */
export class SnapshotIncompleteError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_SNAPSHOT_INCOMPLETE', message, options) }
}

/** A restore would replace files that exist; nothing was written. */
export class RestoreConflictError extends AerieError {
  readonly paths: string[]

  constructor (paths: string[], to: string) {
    const shown = paths.slice(0, 5).map(p => `  ${p}`).join('\n')
    super('ERR_RESTORE_EXISTS', `${paths.length} ${paths.length === 1 ? 'item' : 'items'} to restore already exist in ${to}, so nothing was written:\n${shown}${paths.length > 5 ? '\n  …' : ''}\n` +
      'restore into an empty directory (--to DIR), or pass --overwrite to replace them')
    this.paths = paths
  }
}

/** Some files could not be restored (a damaged or missing chunk, a local disk error); the others were. */
export class RestoreIncompleteError extends AerieError {
  readonly failed: Array<{ path: string, reason: string }>

  constructor (failed: Array<{ path: string, reason: string }>) {
    const shown = failed.slice(0, 10).map(f => `  ${f.path}: ${f.reason}`).join('\n')
    super('ERR_RESTORE_INCOMPLETE', `${failed.length} ${failed.length === 1 ? 'file was' : 'files were'} NOT restored (the rest were):\n${shown}${failed.length > 10 ? '\n  …' : ''}\n` +
      'each line says why: where a chunk is damaged or missing, ask an administrator to run `aerie-server scrub` and restore those files from an older snapshot; ' +
      'where this disk failed (full, read-only, no permission), fix that and restore again with --overwrite')
    this.failed = failed
  }
}

/** The backup set cannot be backed up as configured (no paths, a directory object over the size limit). */
export class BackupError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_BACKUP', message, options) }
}
