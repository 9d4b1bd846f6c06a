import { randomBytes } from 'node:crypto'
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// Endpoint backup end to end: real agents back up to a real aerie-server over
// /aerie/backup/1.1.0 and restore from it, through the CLI.

interface Snapshot { id: string, deviceId: string, received: { chunks: number, bytes: number }, counters: Record<string, number> }
interface RunResult { snapshot: Snapshot, counters: { files: number, bytes: number, unchanged: number, changed: number, skipped: number } }

const SMALL_FILES = 50
const T = new Date('2023-03-04T05:06:07.000Z')

async function makeTree (dir: string, big: Buffer): Promise<void> {
  await mkdir(join(dir, 'projects/deep/er'), { recursive: true })
  await mkdir(join(dir, 'photos'), { recursive: true })
  for (let i = 0; i < SMALL_FILES; i++) await writeFile(join(dir, 'projects', `note-${i}.txt`), randomBytes(8_000 + i))
  await writeFile(join(dir, 'projects/deep/er/Größe – 日本語.md'), 'unicode\n')
  await writeFile(join(dir, 'empty.txt'), '')
  await writeFile(join(dir, 'photos/big.raw'), big)
  await writeFile(join(dir, 'tool.sh'), '#!/bin/sh\necho ok\n')
  await chmod(join(dir, 'tool.sh'), 0o750)
  await writeFile(join(dir, 'scratch.tmp'), 'never backed up')
  await utimes(join(dir, 'photos/big.raw'), T, T)
}

/** Every file below dir: bytes, mode and mtime. */
async function describeTree (dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const path = join(rel, name)
    const s = await lstat(join(dir, path))
    if (s.isDirectory()) Object.assign(out, await describeTree(dir, path))
    else out[path] = `${(s.mode & 0o7777).toString(8)} ${s.mtimeMs} ${(await readFile(join(dir, path))).toString('base64').slice(0, 40)} ${s.size}`
  }
  return out
}

describe('endpoint backup to the team server', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let ada: Device
  let bob: Device
  let adaDocs: string
  const big = randomBytes(12 * 1024 * 1024)
  let first: RunResult

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-backup-e2e-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    ada = await lab.device('ada')
    await server.connect(ada, 'ada')
    bob = await lab.device('bob')
    await server.connect(bob, 'bob')
    adaDocs = join(root, 'ada-home/Documents')
    await makeTree(adaDocs, big)
    await ada.ok('backup', 'add', adaDocs)
    await ada.ok('backup', 'exclude', '*.tmp')
    first = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('restores a snapshot elsewhere byte for byte, with modes and mtimes, and never over existing files unasked', async () => {
    expect(first.counters).toMatchObject({ files: SMALL_FILES + 4, changed: 0, skipped: 0 })
    expect(first.snapshot.received.bytes).toBeGreaterThan(big.byteLength)
    const list = JSON.parse(await ada.ok('restore', 'list', '--json')) as Snapshot[]
    expect(list.map(s => s.id)).toEqual([first.snapshot.id])
    const browsed = JSON.parse(await ada.ok('restore', 'browse', 'latest', adaDocs, '--json')) as { entries: Array<{ name: string }> }
    expect(browsed.entries.map(e => e.name)).toEqual(['empty.txt', 'photos', 'projects', 'tool.sh'])

    const to = join(root, 'restored')
    await ada.ok('restore', first.snapshot.id.slice(0, 8), adaDocs, '--to', to)
    const original = await describeTree(adaDocs)
    delete original['scratch.tmp']
    expect(await describeTree(join(to, 'Documents'))).toEqual(original)
    expect((await readFile(join(to, 'Documents/photos/big.raw'))).equals(big)).toBe(true)

    const again = await ada.cli('restore', first.snapshot.id, join(adaDocs, 'projects/note-1.txt'), '--to', join(to, 'Documents/projects'))
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exist/)
    await ada.ok('restore', first.snapshot.id, join(adaDocs, 'projects/note-1.txt'), '--to', join(to, 'Documents/projects'), '--overwrite')
  })

  it('sends a small fraction for an incremental after edits (an insertion at the start of a large file), and almost nothing for another device with the same files', async () => {
    await writeFile(join(adaDocs, 'projects/note-3.txt'), randomBytes(8_003))
    await writeFile(join(adaDocs, 'photos/big.raw'), Buffer.concat([Buffer.from('a new header\n'), big]))
    const second = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult
    expect(second.snapshot.received.bytes).toBeLessThan(first.snapshot.received.bytes * 0.05)
    expect(second.counters.unchanged).toBeGreaterThanOrEqual(SMALL_FILES - 1)

    const bobDocs = join(root, 'bob-home/Stuff')
    await mkdir(join(root, 'bob-home'), { recursive: true })
    await cp(adaDocs, bobDocs, { recursive: true })
    await bob.ok('backup', 'add', bobDocs)
    const bobs = JSON.parse(await bob.ok('backup', 'run', '--json')) as RunResult
    expect(bobs.counters.bytes).toBeGreaterThan(big.byteLength)
    expect(bobs.snapshot.received.bytes).toBeLessThan(bobs.counters.bytes / 100)
  })

  it('shows a device only its own snapshots, refuses another device\'s, and audits every snapshot added', async () => {
    const bobList = JSON.parse(await bob.ok('restore', 'list', '--json')) as Snapshot[]
    expect(bobList.every(s => s.deviceId === bobList[0]!.deviceId)).toBe(true)
    expect(bobList.map(s => s.id)).not.toContain(first.snapshot.id)
    const forged = await bob.cli('restore', 'browse', first.snapshot.id)
    expect(forged.code).toBe(1)
    expect(forged.stderr).toMatch(/has no snapshot/)
    const stolen = await bob.cli('restore', first.snapshot.id, '--to', join(root, 'stolen'))
    expect(stolen.code).toBe(1)
    const db = new DatabaseSync(join(server.dataDir, 'server.db'), { readOnly: true })
    const actions = db.prepare("SELECT action, target FROM audit_log WHERE action LIKE 'backup.%' ORDER BY seq").all().map(r => `${String(r.action)} ${String(r.target)}`)
    db.close()
    expect(actions.filter(a => a.startsWith('backup.snapshot_added'))).toHaveLength(3)
    expect(actions).toContain(`backup.restore ${first.snapshot.id}`)
  })

  it('backs up on the schedule the agent is given', async () => {
    const before = (JSON.parse(await ada.ok('restore', 'list', '--json')) as Snapshot[]).length
    await ada.ok('backup', 'schedule', '2s')
    await waitFor(async () => (JSON.parse(await ada.ok('restore', 'list', '--json')) as Snapshot[]).length > before, `a scheduled backup\n${ada.log}`, 40_000, 500)
    await ada.ok('backup', 'schedule', 'off')
  })

  it('fails, loudly, only the files whose chunks a damaged pack holds, and restores the rest', async () => {
    // The first snapshot's large file fills most of the first pack: damage its middle.
    expect(await server.flipPackByte(6 * 1024 * 1024)).toBeGreaterThan(big.byteLength)

    const to = join(root, 'after-damage')
    const result = await ada.cli('restore', first.snapshot.id, '--to', to)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/1 file was NOT restored/)
    expect(result.stderr).toMatch(/big\.raw/)
    const restored = join(to, adaDocs.slice(1))
    await expect(lstat(join(restored, 'photos/big.raw'))).rejects.toThrow()
    expect(await readFile(join(restored, 'projects/note-0.txt'))).toEqual(await readFile(join(adaDocs, 'projects/note-0.txt')))
    expect(await readFile(join(restored, 'tool.sh'), 'utf8')).toBe('#!/bin/sh\necho ok\n')
  })

  it('after a restore met damage, the next backup reads the files again and sends the damaged chunk anew, which repairs the store', async () => {
    // No scrub ran: only the failed restore knows of the damage.
    const repair = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult
    expect(repair.counters.unchanged).toBe(0)
    expect(repair.snapshot.received.bytes).toBeGreaterThan(0)
    const to = join(root, 'after-repair')
    await ada.ok('restore', first.snapshot.id, '--to', to)
    expect((await readFile(join(to, adaDocs.slice(1), 'photos/big.raw'))).equals(big)).toBe(true)
    // Repaired: backups build on their parent again.
    const next = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult
    expect(next.counters.unchanged).toBe(next.counters.files)
  })
})
