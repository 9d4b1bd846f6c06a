import { NotConfiguredError } from '../errors.ts'
import type { DatabaseSync } from 'node:sqlite'

/**
 * Creates a store's schema once, safely when several processes open the same file (the CLI
 * and the running agent): the version lives in `PRAGMA user_version`, checked again inside
 * the write lock. A file from a newer Aerie is refused rather than misread.
 */
export function migrateSchema (db: DatabaseSync, init: { schema: string, version: number, what: string }): void {
  const current = (): number => Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0)
  const version = current()
  if (version === init.version) return
  if (version > init.version) {
    throw new NotConfiguredError(`the ${init.what} was written by a newer version of Aerie; update Aerie on this machine`)
  }
  inTransaction(db, () => {
    // Re-read inside the write lock: another process may have just created it.
    if (current() === 0) {
      db.exec(init.schema)
      db.exec(`PRAGMA user_version = ${init.version}`)
    }
  })
}

/** Runs `work` under the database's write lock, all or nothing: a crash or an error leaves none of it. */
export function inTransaction<T> (db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = work()
    db.exec('COMMIT')
    return result
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}
