import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// A team server whose store's disk fills up during a backup: the device is told so plainly,
// nothing is committed, the store stays consistent, and once the store has room again the next
// backup sends only what the server lacks and restores byte for byte. The store sits on a
// 24 MiB tmpfs that only the server's process sees (a mount namespace of its own).

const run = promisify(execFile)
const MiB = 1024 * 1024

// Response bodies are checked with expect() shapes; typing each one would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

describe('a team server whose store disk is full', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let ada: Device

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-store-full-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start([], {}, { storeBytes: 24 * MiB })
    ada = await lab.device('ada')
    await server.connect(ada, 'ada')
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('refuses the backup plainly and commits nothing; with room again, the next one sends only what is missing', async () => {
    const docs = join(root, 'Documents')
    await mkdir(docs, { recursive: true })
    const big = randomBytes(40 * MiB)
    await writeFile(join(docs, 'video.raw'), big)
    await writeFile(join(docs, 'note.txt'), 'a small note\n')
    await ada.ok('backup', 'add', docs)

    const full = await ada.cli('backup', 'run')
    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(/its disk for backups is full, so nothing of this backup was committed.*tell an administrator/)
    expect(JSON.parse(await ada.ok('restore', 'list', '--json'))).toEqual([])
    await waitFor(() => /backups refused: the disk that holds the chunk store(?=.*\/store).* is full/.test(server.log), `the server to log the full disk\n${server.log}`)
    const admin = await server.setUpAdmin()
    const audit = (await admin.get('/api/v1/audit?limit=200')).body.entries as Json[]
    expect(audit.filter(e => e.action === 'backup.store_full')).toHaveLength(1)
    // The console's Space panel sees the store's own disk: 24 MiB, too little left for a group of chunks (8 MiB).
    const space = (await admin.get('/api/v1/backup/space')).body as Json
    expect(space.disk.total).toBe(24 * MiB)
    expect(space.disk.free).toBeLessThan(8.5 * MiB)
    expect(space.disk.kept).toBe(Math.ceil(24 * MiB / 100))
    expect(space.store.chunks).toBeGreaterThan(0)
    expect(Date.parse(space.fullSince)).toBeGreaterThan(0)
    // What reached the store before the disk filled is whole.
    expect((await server.cli(['scrub', '--now'])).code).toBe(0)

    // An administrator gives the store more room (here: the tmpfs grows).
    await run('nsenter', ['--target', String(server.process!.pid), '--mount', 'mount', '-o', 'remount,size=128m', join(server.dataDir, 'store')])
    const { snapshot } = JSON.parse(await ada.ok('backup', 'run', '--json')) as Json
    expect(snapshot.received.bytes).toBeGreaterThan(0)
    // Only what the store lacked: the file less what reached the store before its disk filled (a little more for the note and the tree).
    expect(space.store.uniqueBytes).toBeGreaterThan(4 * MiB)
    expect(snapshot.received.bytes).toBeLessThan(big.byteLength - space.store.uniqueBytes + 256 * 1024)
    expect(server.log).toMatch(/backups stored again: the store had room for a whole backup/)
    expect((await admin.get('/api/v1/backup/space')).body).toMatchObject({ disk: { total: 128 * MiB }, fullSince: null })

    const to = join(root, 'restored')
    await ada.ok('restore', snapshot.id, '--to', to)
    expect((await readFile(join(to, docs.slice(1), 'video.raw'))).equals(big)).toBe(true)
    expect(await readFile(join(to, docs.slice(1), 'note.txt'), 'utf8')).toBe('a small note\n')
    expect((await server.cli(['scrub', '--now'])).code).toBe(0)
  })
})
