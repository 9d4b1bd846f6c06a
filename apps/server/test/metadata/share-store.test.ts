import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConflictError } from '../../src/accounts/errors.ts'
import { openServerMetadata } from '../../src/metadata/server-db.ts'
import type { ServerMetadata, ShareLinkRecord } from '../../src/metadata/stores.ts'
import { tempMetadata } from '../fixtures.ts'
import type { TempMetadata } from '../fixtures.ts'

const T = new Date('2030-01-01T00:00:00Z')
const at = (ms: number): Date => new Date(T.getTime() + ms)
const link = (id: string, extra: Partial<ShareLinkRecord> = {}): Omit<ShareLinkRecord, 'downloads' | 'revokedAt'> => ({
  id, tokenHash: `hash-${id}`, folder: 'team', path: 'docs/a.txt', kind: 'file', createdBy: 'u1', createdAt: T, expiresAt: at(86_400_000), uploadOnly: false, ...extra
})

describe('share store (node:sqlite)', () => {
  let temp: TempMetadata
  let m: ServerMetadata
  beforeEach(() => { temp = tempMetadata(); m = temp.metadata })
  afterEach(() => { temp[Symbol.dispose]() })

  it('creates links, finds them by id and token hash, lists newest first per user, refuses a taken token', () => {
    const created = m.shares.createShare(link('s1', { passwordHash: 'scrypt$…', maxDownloads: 3, snapshot: [{ path: 'docs/a.txt', size: 5, mtimeMs: 1, modifiedBy: 'dev' }] }))
    expect(created).toEqual({ ...link('s1'), passwordHash: 'scrypt$…', maxDownloads: 3, downloads: 0, snapshot: [{ path: 'docs/a.txt', size: 5, mtimeMs: 1, modifiedBy: 'dev' }] })
    m.shares.createShare(link('s2', { createdAt: at(1), createdBy: 'u2', kind: 'folder', path: '', uploadOnly: true, maxUploadBytes: 100 }))
    expect(m.shares.shareByTokenHash('hash-s2')).toMatchObject({ id: 's2', kind: 'folder', path: '', uploadOnly: true, maxUploadBytes: 100 })
    expect(m.shares.shareById('nope')).toBeUndefined()
    expect(m.shares.listShares().map(s => s.id)).toEqual(['s2', 's1'])
    expect(m.shares.listShares('u1').map(s => s.id)).toEqual(['s1'])
    expect(() => m.shares.createShare(link('s3', { tokenHash: 'hash-s1' }))).toThrow(ConflictError)
  })

  it('revokes once, and counts downloads only up to the limit', () => {
    m.shares.createShare(link('s1', { maxDownloads: 2 }))
    m.shares.createShare(link('s2'))
    expect(m.shares.revokeShare('s1', at(5))).toBe(true)
    expect(m.shares.revokeShare('s1', at(6))).toBe(false)
    expect(m.shares.shareById('s1')?.revokedAt).toEqual(at(5))
    expect([m.shares.countDownload('s1'), m.shares.countDownload('s1'), m.shares.countDownload('s1')]).toEqual([true, true, false])
    expect(m.shares.shareById('s1')?.downloads).toBe(2)
    for (let i = 0; i < 5; i++) expect(m.shares.countDownload('s2')).toBe(true)
    expect(m.shares.shareById('s2')?.downloads).toBe(5)
  })

  it('keeps the organisation\'s policy once set', () => {
    expect(m.shares.policy()).toBeUndefined()
    m.shares.setPolicy({ maxLifetimeSeconds: 600, passwordRequired: true, maxUploadBytes: 10 })
    m.shares.setPolicy({ maxLifetimeSeconds: 700, passwordRequired: true, maxUploadBytes: 10 })
    expect(m.shares.policy()).toEqual({ maxLifetimeSeconds: 700, passwordRequired: true, maxUploadBytes: 10 })
  })

  it('brings a database from before share links up to date and keeps what it held', () => {
    m.accounts.createUser({ id: 'u1', email: 'ada@example.org', role: 'admin', passwordHash: 'h', createdAt: T })
    m.close()
    // What a version 1 database looks like: no share tables.
    const db = new DatabaseSync(temp.path)
    db.exec('DROP TABLE share_links; DROP TABLE share_policy; PRAGMA user_version = 1')
    db.close()
    const reopened = openServerMetadata(temp.path)
    try {
      expect(reopened.accounts.userById('u1')?.email).toBe('ada@example.org')
      reopened.shares.createShare(link('s1'))
      expect(reopened.shares.listShares().map(s => s.id)).toEqual(['s1'])
      const check = new DatabaseSync(temp.path, { readOnly: true })
      expect(check.prepare('PRAGMA user_version').get()?.user_version).toBe(4)
      check.close()
    } finally {
      reopened.close()
      temp.metadata = openServerMetadata(temp.path)
    }
  })
})
