import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidInputError, StoreDamagedError } from '../../src/errors.ts'
import { encodeChunks } from '../../src/index/record-codec.ts'
import { CENTRAL_RETENTION, openCentralHistory } from '../../src/sync/index.ts'
import type { FileRecord } from '../../src/index/index.ts'
import type { CentralHistory } from '../../src/sync/index.ts'

const DAY = 86_400_000

function record (path: string, n: number): FileRecord {
  return {
    path, type: 'file', size: n, mtimeMs: n * 1000, mode: 0o644, deleted: false,
    chunks: [{ hash: new Uint8Array(32).fill(n), size: n }], version: { dev: n }, sequence: n, modifiedBy: 'dev'
  }
}

describe('the central copy\'s version history', () => {
  let dir: string
  let history: CentralHistory
  const key = createSecretKey(randomBytes(32))

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-central-history-'))
    history = openCentralHistory(join(dir, 'history.db'), key)
  })
  afterEach(async () => {
    history.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps replaced versions with their chunk lists, newest first, for a file or a whole directory', () => {
    history.add('f', record('docs/a.txt', 1), 'alice', new Date(1000))
    history.add('f', record('docs/a.txt', 2), 'bob', new Date(2000))
    history.add('f', record('docs/sub/b.txt', 3), 'bob', new Date(3000))
    history.add('f', record('docsx.txt', 4), 'bob', new Date(4000))
    history.add('g', record('docs/a.txt', 5), 'bob', new Date(5000))
    const a = history.list('f', 'docs/a.txt')
    expect(a.map(v => v.record.size)).toEqual([2, 1])
    expect(a[0]).toMatchObject({ replacedBy: 'bob', replacedAt: new Date(2000) })
    expect(a[1]!.record.chunks[0]!.hash).toEqual(new Uint8Array(32).fill(1))
    expect(history.list('f', 'docs').map(v => v.record.size)).toEqual([3, 2, 1])
    expect(history.list('f', '').map(v => v.record.size)).toEqual([4, 3, 2, 1])
    // A pull's batch in one transaction.
    history.addMany('g', [{ record: record('x.txt', 6), replacedBy: 'bob' }, { record: record('y.txt', 7), replacedBy: 'carol' }], new Date(6000))
    expect(history.list('g', '').map(v => [v.path, v.replacedBy])).toEqual([['y.txt', 'carol'], ['x.txt', 'bob'], ['docs/a.txt', 'bob']])
  })

  it('prunes by each folder\'s policy: the newest N per file, none older than the age limit', () => {
    const now = new Date(400 * DAY)
    for (let i = 1; i <= 40; i++) history.add('f', record('a.txt', i), 'dev', new Date(now.getTime() - (41 - i) * 1000))
    history.add('f', record('old.txt', 1), 'dev', new Date(now.getTime() - 100 * DAY))
    history.setRetention('g', { keepVersions: 2, maxAgeDays: 0 })
    for (let i = 1; i <= 5; i++) history.add('g', record('b.txt', i), 'dev', new Date(i * 1000))
    expect(history.retention('f')).toEqual(CENTRAL_RETENTION)
    expect(history.prune(now)).toBe(40 - CENTRAL_RETENTION.keepVersions + 1 + 3)
    expect(history.list('f', 'a.txt').map(v => v.record.size)[0]).toBe(40)
    expect(history.list('f', 'a.txt')).toHaveLength(CENTRAL_RETENTION.keepVersions)
    expect(history.list('f', 'old.txt')).toEqual([])
    // maxAgeDays 0 keeps them forever, but only the newest two.
    expect(history.list('g', 'b.txt').map(v => v.record.size)).toEqual([5, 4])
  })

  it('keeps each record sealed with the data key: not readable in the file, and not with another key', async () => {
    history.add('f', { ...record('docs/a.txt', 1), modifiedBy: 'devicewhowrotethis' }, 'alice', new Date(1000))
    history.close()
    const bytes = await readFile(join(dir, 'history.db'))
    const wal = await readFile(join(dir, 'history.db-wal')).catch(() => Buffer.alloc(0))
    expect(Buffer.concat([bytes, wal]).includes('devicewhowrotethis')).toBe(false)
    const other = openCentralHistory(join(dir, 'history.db'), createSecretKey(randomBytes(32)))
    try {
      expect(() => other.list('f', 'docs/a.txt')).toThrow(StoreDamagedError)
    } finally {
      other.close()
    }
    history = openCentralHistory(join(dir, 'history.db'), key)
    expect(history.list('f', 'docs/a.txt')[0]!.record.modifiedBy).toBe('devicewhowrotethis')
  })

  it('seals the records of a version 1 history (kept in the clear) when it opens it', async () => {
    history.close()
    const path = join(dir, 'v1.db')
    const db = new DatabaseSync(path)
    db.exec(`CREATE TABLE versions (id INTEGER PRIMARY KEY, folder TEXT NOT NULL, path TEXT NOT NULL, record TEXT NOT NULL, chunks BLOB NOT NULL, replaced_at INTEGER NOT NULL, replaced_by TEXT NOT NULL) STRICT;
      CREATE INDEX versions_by_path ON versions (folder, path, replaced_at);
      CREATE TABLE retention (folder TEXT PRIMARY KEY, keep_versions INTEGER NOT NULL, max_age_days INTEGER NOT NULL) STRICT;
      PRAGMA user_version = 1`)
    const { chunks, ...rest } = record('old.txt', 7)
    db.prepare('INSERT INTO versions (folder, path, record, chunks, replaced_at, replaced_by) VALUES (?, ?, ?, ?, ?, ?)').run('f', 'old.txt', JSON.stringify(rest), encodeChunks(chunks), 5000, 'bob')
    db.close()
    history = openCentralHistory(path, key)
    expect(history.list('f', 'old.txt')).toEqual([{ folder: 'f', path: 'old.txt', record: record('old.txt', 7), replacedAt: new Date(5000), replacedBy: 'bob' }])
  })

  it('gives every kept version of every folder, past the 1000 that a listing shows', () => {
    for (let i = 0; i < 1005; i++) history.add('f', record(`n/${i}.txt`, i), 'bob', new Date(1000 + i))
    history.add('g', record('other.txt', 1), 'bob')
    expect(history.list('f', '').length).toBe(1000)
    const all = [...history.all()]
    expect(all.filter(v => v.folder === 'f').length).toBe(1005)
    expect(all.filter(v => v.folder === 'g').map(v => v.path)).toEqual(['other.txt'])
  })

  it('refuses a nonsensical policy', () => {
    expect(() => { history.setRetention('f', { keepVersions: 0, maxAgeDays: 1 }) }).toThrow(InvalidInputError)
    expect(() => { history.setRetention('f', { keepVersions: 1, maxAgeDays: -1 }) }).toThrow(InvalidInputError)
    expect(() => { history.setRetention('f', { keepVersions: 1.5, maxAgeDays: 1 }) }).toThrow(InvalidInputError)
  })
})
