import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { createAuditLog } from '../../src/audit/audit-log.ts'
import { openServerMetadata } from '../../src/metadata/server-db.ts'
import { tempMetadata } from '../fixtures.ts'
import type { TempMetadata } from '../fixtures.ts'

function fiveEntries (temp: TempMetadata): void {
  const audit = createAuditLog(temp.metadata.audit)
  for (let i = 1; i <= 5; i++) {
    audit.record({ actor: 'ada@example.org', action: i % 2 === 0 ? 'login.failed' : 'login.succeeded', target: `t${i}`, detail: { n: i }, address: '10.0.0.1' },
      new Date(Date.UTC(2030, 0, 1, 0, 0, i)))
  }
  temp.metadata.close()
}

// Tampering goes behind the server's back: a second connection to the file, as someone with disk access would.
function tamper (path: string, ...statements: string[]): void {
  const db = new DatabaseSync(path)
  try {
    db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete')
    for (const sql of statements) db.exec(sql)
  } finally {
    db.close()
  }
}

function verifyFile (path: string): ReturnType<ReturnType<typeof createAuditLog>['verify']> {
  const metadata = openServerMetadata(path)
  try {
    return createAuditLog(metadata.audit).verify()
  } finally {
    metadata.close()
  }
}

describe('audit log chain', () => {
  it('verifies an untouched log and filters it', () => {
    using temp = tempMetadata()
    const audit = createAuditLog(temp.metadata.audit)
    expect(audit.verify()).toMatchObject({ ok: true, entries: 0 })
    for (let i = 1; i <= 4; i++) audit.record({ actor: i < 3 ? 'ada@example.org' : 'bob@example.org', action: 'login.succeeded' }, new Date(Date.UTC(2030, 0, i)))
    const result = audit.verify()
    expect(result).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } })
    expect(audit.list({ limit: 10 }).map(e => e.seq)).toEqual([4, 3, 2, 1])
    expect(audit.list({ limit: 10, actor: 'bob@example.org' }).map(e => e.seq)).toEqual([4, 3])
    expect(audit.list({ limit: 10, since: new Date(Date.UTC(2030, 0, 2)), until: new Date(Date.UTC(2030, 0, 3)) }).map(e => e.seq)).toEqual([3, 2])
    expect(audit.list({ limit: 1, beforeSeq: 3 }).map(e => e.seq)).toEqual([2])
    // An anchor noted earlier must still be there.
    expect(audit.verify({ seq: 2, hash: audit.list({ limit: 1, beforeSeq: 3 })[0]!.hash }).ok).toBe(true)
    expect(audit.verify({ seq: 2, hash: 'f'.repeat(64) })).toMatchObject({ ok: false, firstBroken: { seq: 2 } })
    expect(audit.verify({ seq: 9, hash: 'f'.repeat(64) })).toMatchObject({ ok: false })
  })

  it('refuses UPDATE and DELETE through SQLite itself', () => {
    using temp = tempMetadata()
    createAuditLog(temp.metadata.audit).record({ actor: 'ada@example.org', action: 'login.succeeded' })
    const db = new DatabaseSync(temp.path)
    try {
      expect(() => db.exec("UPDATE audit_log SET actor = 'eve' WHERE seq = 1")).toThrow(/append-only/)
      expect(() => db.exec('DELETE FROM audit_log')).toThrow(/append-only/)
    } finally {
      db.close()
    }
  })

  it('detects an edited entry', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path, "UPDATE audit_log SET actor = 'eve@example.org' WHERE seq = 3")
    expect(verifyFile(temp.path)).toEqual({ ok: false, entries: 2, firstBroken: { seq: 3, reason: 'entry 3 was changed after it was written' } })
  })

  it('detects an edited detail or address', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path, `UPDATE audit_log SET detail = '{"n":99}' WHERE seq = 2`)
    expect(verifyFile(temp.path)).toMatchObject({ ok: false, firstBroken: { seq: 2 } })
  })

  it('detects an edit whose hash was recomputed, at the next entry', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    // The forger rewrites entry 3 and gives it a self-consistent hash; entry 4 still points at the old one.
    tamper(temp.path, "UPDATE audit_log SET actor = 'eve@example.org', hash = 'a' || substr(hash, 2) WHERE seq = 3")
    const result = verifyFile(temp.path)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.firstBroken.seq).toBe(3)
  })

  it('detects a deleted entry', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path, 'DELETE FROM audit_log WHERE seq = 2')
    expect(verifyFile(temp.path)).toEqual({ ok: false, entries: 1, firstBroken: { seq: 2, reason: 'entry 2 missing: deleted from the log' } })
  })

  it('detects deleted and renumbered entries', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path, 'DELETE FROM audit_log WHERE seq = 2', 'UPDATE audit_log SET seq = seq - 1 WHERE seq > 2')
    expect(verifyFile(temp.path)).toMatchObject({ ok: false, firstBroken: { seq: 2 } })
  })

  it('detects reordered entries', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path,
      'UPDATE audit_log SET seq = 100 WHERE seq = 3', 'UPDATE audit_log SET seq = 3 WHERE seq = 4', 'UPDATE audit_log SET seq = 4 WHERE seq = 100')
    expect(verifyFile(temp.path)).toMatchObject({ ok: false, firstBroken: { seq: 3 } })
  })

  it('detects entries cut off the end', () => {
    using temp = tempMetadata()
    fiveEntries(temp)
    tamper(temp.path, 'DELETE FROM audit_log WHERE seq >= 4')
    expect(verifyFile(temp.path)).toMatchObject({ ok: false, entries: 3, firstBroken: { seq: 4, reason: expect.stringMatching(/removed from the end/) } })
  })
})
