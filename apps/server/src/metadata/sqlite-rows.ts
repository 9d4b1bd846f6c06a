import type { SQLOutputValue } from 'node:sqlite'

// Row conversion shared by the metadata database's stores.

export const text = (value: SQLOutputValue | undefined): string => String(value)
export const date = (value: SQLOutputValue | undefined): Date => new Date(Number(value))
export const optionalDate = (value: SQLOutputValue | undefined): Date | undefined => value === null || value === undefined ? undefined : new Date(Number(value))
export const optionalText = (value: SQLOutputValue | undefined): string | undefined => value === null || value === undefined ? undefined : String(value)
export type Row = Record<string, SQLOutputValue>
