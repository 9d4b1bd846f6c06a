import { execFile } from 'node:child_process'
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BACKUP_OK, BACKUP_REQUEST, backupFrame } from '@aerie/core'
import type { ChunkStore } from '@aerie/core'
import { backupAdmin } from '../../src/backup/backup-admin.ts'
import { backupService } from '../../src/backup/backup-service.ts'
import { setUpAdmin, startWebApp } from '../web/harness.ts'
import type { Client, Json, RunningWebApp } from '../web/harness.ts'
import { ADA_LAPTOP as ADA, backedUpTree, BOB_DESKTOP, NOTE, NOTE_NAME } from './snapshot-fixture.ts'
import type { BackedUpTree } from './snapshot-fixture.ts'

// An administrator reads a snapshot on the server through the admin API: its directories, and a
// file's download, over a real pack store holding a real backup. And restore grants: listed, and
// revoked so that the device can no longer open the snapshot.

const BOB = { ...BOB_DESKTOP, address: '/ip4/127.0.0.1/tcp/2' }
const SNAPSHOT = 'a1b2c3d4e5f60718'
const run = promisify(execFile)

describe('browsing and downloading a snapshot (admin API)', () => {
  let web: RunningWebApp
  let admin: Client
  let tree: BackedUpTree
  let reads: number

  beforeEach(async () => {
    tree = await backedUpTree()
    reads = 0
    // Counts what is read from the store, so a refused path can be shown to have read nothing.
    const counting: ChunkStore = { ...tree.store, get: async hash => { reads++; return await tree.store.get(hash) } }
    web = await startWebApp()
    web.api.backup = backupAdmin({ snapshots: web.temp.metadata.backups, audit: web.audit, log: () => {}, store: counting })
    admin = await setUpAdmin(web.base)
    tree.record(web.temp.metadata.backups, SNAPSHOT, ADA)
  })
  afterEach(async () => {
    await web[Symbol.asyncDispose]()
    await tree[Symbol.asyncDispose]()
  })

  const list = async (path?: string) => await admin.get(`/api/v1/backup/snapshots/${SNAPSHOT}/tree${path === undefined ? '' : `?${new URLSearchParams({ path })}`}`)
  const download = async (path: string): Promise<Response> => await fetch(`${web.base}/api/v1/backup/snapshots/${SNAPSHOT}/file?${new URLSearchParams({ path })}`, { headers: { cookie: admin.cookie! } })

  it('lists a snapshot directory by directory, from its root down, with types, sizes, modes and times', async () => {
    const root = await list()
    expect(root.status).toBe(200)
    expect(root.body).toEqual({ snapshot: SNAPSHOT, path: '', entries: [expect.objectContaining({ name: tree.inSnapshot.split('/')[0], type: 'dir' })] })
    const docs = await list(tree.inSnapshot)
    expect(docs.body.entries.map((e: { name: string, type: string }) => `${e.type} ${e.name}`)).toEqual([`file ${NOTE_NAME}`, 'file empty.txt', 'symlink latest', 'dir photos'])
    expect(docs.body.entries.find((e: { name: string }) => e.name === 'latest')).toMatchObject({ target: 'photos/big.raw', size: 0 })
    const photos = await list(`${tree.inSnapshot}/photos`)
    const big = photos.body.entries.find((e: { name: string }) => e.name === 'big.raw')
    expect(big).toEqual({ name: 'big.raw', type: 'file', size: tree.big.byteLength, mode: 0o600, mtimeMs: expect.any(Number) })
    expect(photos.body.entries.map((e: { name: string }) => e.name)).toEqual(['2030', 'big.raw'])
  })

  it('downloads a file byte for byte, named for the browser in ASCII and UTF-8, never sniffed; audited with the admin and the path', async () => {
    const response = await download(`${tree.inSnapshot}/photos/big.raw`)
    expect(response.status).toBe(200)
    expect(Buffer.from(await response.arrayBuffer()).equals(tree.big)).toBe(true)
    expect(response.headers.get('content-length')).toBe(String(tree.big.byteLength))
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="big.raw"; filename*=UTF-8\'\'big.raw')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox")

    const note = await download(`${tree.inSnapshot}/${NOTE_NAME}`)
    expect(await note.text()).toBe(NOTE)
    expect(note.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(note.headers.get('content-disposition')).toBe('attachment; filename="Reunion _ete_.txt"; filename*=UTF-8\'\'R%C3%A9union%20%22%C3%A9t%C3%A9%22.txt')
    const empty = await download(`${tree.inSnapshot}/empty.txt`)
    expect(empty.status).toBe(200)
    expect((await empty.arrayBuffer()).byteLength).toBe(0)

    const downloads = [...web.temp.metadata.audit.entries()].filter(e => e.action === 'backup.download')
    expect(downloads.map(e => [e.actor, e.target, e.detail.path])).toEqual([
      ['ada@example.org', SNAPSHOT, `${tree.inSnapshot}/photos/big.raw`],
      ['ada@example.org', SNAPSHOT, `${tree.inSnapshot}/${NOTE_NAME}`],
      ['ada@example.org', SNAPSHOT, `${tree.inSnapshot}/empty.txt`]
    ])
  })

  it('downloads a directory as a tar archive that GNU tar extracts byte for byte, with modes, times and links; audited', async () => {
    const response = await fetch(`${web.base}/api/v1/backup/snapshots/${SNAPSHOT}/archive?${new URLSearchParams({ path: tree.inSnapshot })}`, { headers: { cookie: admin.cookie! } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/x-tar')
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="Documents.tar"; filename*=UTF-8\'\'Documents.tar')
    const archive = Buffer.from(await response.arrayBuffer())
    expect(response.headers.get('content-length')).toBe(String(archive.byteLength))
    const out = await mkdtemp(join(tmpdir(), 'aerie-archive-'))
    try {
      await writeFile(join(out, 'a.tar'), archive)
      await run('tar', ['-xf', join(out, 'a.tar'), '-C', out])
      const got = join(out, 'Documents')
      expect(await readFile(join(got, 'photos/big.raw'))).toEqual(tree.big)
      expect((await lstat(join(got, 'photos/big.raw'))).mode & 0o777).toBe(0o600)
      expect(await readFile(join(got, NOTE_NAME), 'utf8')).toBe(NOTE)
      expect((await lstat(join(got, 'empty.txt'))).size).toBe(0)
      expect(await readlink(join(got, 'latest'))).toBe('photos/big.raw')
      expect(await readFile(join(got, 'photos/2030/beach.jpg'))).toEqual(await readFile(join(tree.src, 'photos/2030/beach.jpg')))
      const seconds = async (path: string): Promise<number> => Math.floor((await lstat(path)).mtimeMs / 1000)
      expect(await seconds(join(got, 'photos/big.raw'))).toBe(await seconds(join(tree.src, 'photos/big.raw')))
    } finally {
      await rm(out, { recursive: true, force: true })
    }
    const entry = [...web.temp.metadata.audit.entries()].find(e => e.action === 'backup.download')
    expect(entry).toMatchObject({ actor: 'ada@example.org', target: SNAPSHOT, detail: { path: tree.inSnapshot, as: 'tar', files: 4, bytes: archive.byteLength } })

    // The whole snapshot, under a directory named for it; a file is not a directory.
    const whole = await fetch(`${web.base}/api/v1/backup/snapshots/${SNAPSHOT}/archive`, { headers: { cookie: admin.cookie! } })
    expect(whole.headers.get('content-disposition')).toContain(`snapshot-${SNAPSHOT}.tar`)
    expect((await whole.arrayBuffer()).byteLength).toBeGreaterThan(archive.byteLength)
    const notDir = await fetch(`${web.base}/api/v1/backup/snapshots/${SNAPSHOT}/archive?${new URLSearchParams({ path: `${tree.inSnapshot}/empty.txt` })}`, { headers: { cookie: admin.cookie! } })
    expect(notDir.status).toBe(400)
    expect(((await notDir.json()) as Json).error.message).toMatch(/is a file in this snapshot, not a directory/)
  })

  it('refuses paths that leave the snapshot before reading anything, and says what is not there', async () => {
    for (const path of ['../etc', `${tree.inSnapshot}/../../x`, '/etc/passwd', 'a\\..\\b', 'a//b', './x']) {
      const listed = await list(path)
      expect(listed.status, path).toBe(400)
      expect(listed.body.error.message).toMatch(/is not a path inside the snapshot/)
      const fetched = await download(path)
      expect(fetched.status, path).toBe(400)
      expect(fetched.headers.get('content-disposition')).toBeNull()
    }
    expect(reads).toBe(0)
    expect((await download('')).status).toBe(400)
    expect((await admin.get(`/api/v1/backup/snapshots/${SNAPSHOT}/file`)).status).toBe(400)
    expect((await list(`${tree.inSnapshot}/nothing-here`)).status).toBe(404)
    expect((await download(`${tree.inSnapshot}/nothing-here`)).status).toBe(404)
    expect((await admin.get('/api/v1/backup/snapshots/0000000000000000/tree')).status).toBe(404)
    // A directory or a link does not download; a file is not a directory.
    expect((await download(`${tree.inSnapshot}/photos`)).status).toBe(400)
    expect(((await (await download(`${tree.inSnapshot}/latest`)).json()) as Json).error.message).toMatch(/symbolic link/)
    expect((await list(`${tree.inSnapshot}/empty.txt`)).body.error.message).toMatch(/is a file in this snapshot, not a directory/)
    expect([...web.temp.metadata.audit.entries()].filter(e => e.action === 'backup.download')).toEqual([])
  })

  it('ends a download with an error at a damaged chunk, never with short data; a damaged first chunk is refused before any byte', async () => {
    const bigPath = `${tree.inSnapshot}/photos/big.raw`
    await tree.damage(bigPath, 20)
    const cut = await download(bigPath)
    expect(cut.status).toBe(200)
    await expect(cut.arrayBuffer()).rejects.toThrow()
    const archive = await fetch(`${web.base}/api/v1/backup/snapshots/${SNAPSHOT}/archive?${new URLSearchParams({ path: tree.inSnapshot })}`, { headers: { cookie: admin.cookie! } })
    expect(archive.status).toBe(200)
    await expect(archive.arrayBuffer()).rejects.toThrow()

    const beach = `${tree.inSnapshot}/photos/2030/beach.jpg`
    await tree.damage(beach, 0)
    const refused = await download(beach)
    expect(refused.status).toBe(500)
    expect(refused.headers.get('content-disposition')).toBeNull()
    expect(((await refused.json()) as Json).error).toMatchObject({ code: 'ERR_STORE_DAMAGED', message: expect.stringMatching(/is damaged/) })
  })

  it('lists the grants in force, and a revoked grant no longer opens the snapshot on its device; audited', async () => {
    const granted = await admin.post(`/api/v1/backup/snapshots/${SNAPSHOT}/restore-grants`, { device: BOB.deviceId, ttlMinutes: 60 })
    expect(granted.status).toBe(200)
    const listed = await admin.get('/api/v1/backup/restore-grants')
    expect(listed.body.grants).toEqual([{ ...granted.body.grant }])

    const service = backupService({ store: tree.store, snapshots: web.temp.metadata.backups, audit: web.audit, log: () => {} })
    const open = async (): Promise<{ ok: boolean, code?: string }> => {
      const reply = await service.session(BOB).answer(backupFrame(BACKUP_REQUEST, new TextEncoder().encode(JSON.stringify({ type: 'open', id: SNAPSHOT, purpose: 'browse' }))))
      return reply.get(0) === BACKUP_OK ? { ok: true } : { ok: false, code: (JSON.parse(new TextDecoder().decode(reply.subarray(1))) as { code: string }).code }
    }
    expect(await open()).toEqual({ ok: true })

    const revoked = await admin.delete(`/api/v1/backup/restore-grants/${granted.body.grant.id as string}`)
    expect(revoked.status).toBe(200)
    expect(revoked.body.grant.id).toBe(granted.body.grant.id)
    expect(await open()).toEqual({ ok: false, code: 'ERR_SNAPSHOT_NOT_FOUND' })
    expect((await admin.get('/api/v1/backup/restore-grants')).body.grants).toEqual([])
    expect((await admin.delete(`/api/v1/backup/restore-grants/${granted.body.grant.id as string}`)).status).toBe(404)
    const entry = [...web.temp.metadata.audit.entries()].find(e => e.action === 'backup.restore_grant_revoked')
    expect(entry).toMatchObject({ actor: 'ada@example.org', target: SNAPSHOT, detail: { grant: granted.body.grant.id, device: BOB.deviceId } })
  })
})
