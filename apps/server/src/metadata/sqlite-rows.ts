import type { DatabaseSync, SQLOutputValue } from 'node:sqlite'

// Row conversion and transactions shared by the metadata database's stores.

/** Runs `work` under the database's write lock, all or nothing. */
export function transaction<T> (db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = work()
    db.exec('COMMIT')
    return result
  } catch (err) {
    db.exec('ROLLBACK')
    throw err
  }
}

export const text = (value: SQLOutputValue | undefined): string => String(value)
export const date = (value: SQLOutputValue | undefined): Date => new Date(Number(value))
export const optionalDate = (value: SQLOutputValue | undefined): Date | undefined => value === null || value === undefined ? undefined : new Date(Number(value))
export const optionalText = (value: SQLOutputValue | undefined): string | undefined => value === null || value === undefined ? undefined : String(value)
export type Row = Record<string, SQLOutputValue>
