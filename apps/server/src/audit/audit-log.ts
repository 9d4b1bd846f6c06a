import { createHash } from 'node:crypto'
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from '../metadata/stores.ts'
import { GENESIS_HASH } from '../metadata/stores.ts'

/**
 * The audit log: append-only, every entry hash-chained to the one before it
 * (hash = SHA-256(previous hash, canonical entry)), so editing, deleting or reordering any entry
 * breaks the chain at that point, and verify() names it. The store also keeps the head (last
 * sequence number and hash) apart from the entries, so cutting entries off the end shows too.
 * Someone who can rewrite the whole database can rewrite the whole chain: compare the head
 * with one kept elsewhere (verify's `anchor`) to catch that.
 */

export interface AuditEvent {
  actor: string
  action: string
  target?: string
  detail?: AuditEntry['detail']
  address?: string
}

export type AuditVerification =
  | { ok: true, entries: number, head: { seq: number, hash: string } }
  | { ok: false, entries: number, firstBroken: { seq: number, reason: string } }

export interface AuditLog {
  record (event: AuditEvent, now?: Date): AuditRecord
  list (filter: AuditFilter): AuditRecord[]
  /** Walks the whole chain. `anchor` is a head noted earlier (e.g. in a report): it must still be in the chain. */
  verify (anchor?: { seq: number, hash: string }): AuditVerification
}

export function createAuditLog (store: AuditStore): AuditLog {
  return {
    record ({ actor, action, target = '', detail = {}, address = '' }, now = new Date()) {
      const entry: AuditEntry = { time: now.toISOString(), actor, action, target, detail, address }
      return store.append(entry, last => entryHash(last.hash, last.seq + 1, entry))
    },
    list: filter => store.list(filter),
    verify (anchor) {
      let prev = { seq: 0, hash: GENESIS_HASH }
      let checked = 0
      let anchorSeen = anchor === undefined || (anchor.seq === 0 && anchor.hash === GENESIS_HASH)
      const broken = (seq: number, reason: string): AuditVerification => ({ ok: false, entries: checked, firstBroken: { seq, reason } })
      for (const record of store.entries()) {
        const expected = prev.seq + 1
        if (record.seq !== expected) {
          return broken(expected, record.seq > expected
            ? `entr${record.seq - expected === 1 ? 'y' : 'ies'} ${expected}${record.seq - expected === 1 ? '' : `–${record.seq - 1}`} missing: deleted from the log`
            : `entry ${record.seq} is out of order`)
        }
        if (record.prevHash !== prev.hash) return broken(record.seq, `entry ${record.seq} does not follow entry ${prev.seq}: one of them was changed, or entries were reordered`)
        if (entryHash(prev.hash, record.seq, record) !== record.hash) return broken(record.seq, `entry ${record.seq} was changed after it was written`)
        if (anchor !== undefined && record.seq === anchor.seq) {
          if (record.hash !== anchor.hash) return broken(record.seq, `entry ${record.seq} is not the one the anchor names: the log was rewritten`)
          anchorSeen = true
        }
        prev = { seq: record.seq, hash: record.hash }
        checked++
      }
      const head = store.head()
      if (head.seq !== prev.seq || head.hash !== prev.hash) {
        return broken(prev.seq + 1, head.seq > prev.seq
          ? `the log ends at entry ${prev.seq} but entry ${head.seq} was written: entries were removed from the end`
          : `the log's recorded end (entry ${head.seq}) does not match its last entry (${prev.seq})`)
      }
      if (!anchorSeen) return broken(prev.seq + 1, `the log ends at entry ${prev.seq}, before the anchor's entry ${anchor!.seq}: entries were removed`)
      return { ok: true, entries: checked, head }
    }
  }
}

/** SHA-256 over the previous hash and the entry in a canonical form (fixed field order, sorted detail keys). */
export function entryHash (prevHash: string, seq: number, entry: AuditEntry): string {
  const detail = Object.fromEntries(Object.entries(entry.detail).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  const canonical = JSON.stringify([seq, entry.time, entry.actor, entry.action, entry.target, detail, entry.address])
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex')
}
