import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import { describeTree } from './support/trees.ts'
import type { Client } from '../apps/server/test/web/harness.ts'
import type { Device } from './support/agents.ts'

// `kill -9` of the agent in the middle of a backup (issue 6): a half backup is never a
// snapshot, the next run completes without sending again what the killed run already stored,
// its restore is byte for byte, and the server's store scrubs clean.

interface Progress { files: number, needFiles: number, bytes: number, needBytes: number, sentBytes?: number }
interface Job { id: number, state: 'running' | 'done' | 'failed', progress: Progress }
interface RunResult { snapshot: { id: string, received: { bytes: number } }, counters: { files: number, bytes: number, sentBytes: number } }

const MiB = 1024 * 1024
// The uploader sends a batch per 8 MiB, and a batch counts as sent once the server has stored
// it: 48 files of 1 MiB are still being read and sent for a while after the first one is stored.
const FILES = 48

async function makeTree (dir: string): Promise<void> {
  await mkdir(join(dir, 'media'), { recursive: true })
  await mkdir(join(dir, 'notes/deep'), { recursive: true })
  for (let i = 0; i < FILES; i++) await writeFile(join(dir, 'media', `m-${String(i).padStart(2, '0')}.bin`), randomBytes(MiB))
  for (let i = 0; i < 5; i++) await writeFile(join(dir, 'notes', `note-${i}.txt`), `note ${i}\n`.repeat(100 + i))
  await writeFile(join(dir, 'notes/deep/empty'), '')
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho ok\n')
  await chmod(join(dir, 'run.sh'), 0o750)
  const past = new Date('2024-05-06T07:08:09.123Z')
  await utimes(join(dir, 'media/m-07.bin'), past, past)
}

describe('an agent killed with SIGKILL in the middle of a backup', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let admin: Client
  let ada: Device
  let docs: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-backup-killed-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    admin = await server.setUpAdmin()
    ada = await lab.device('ada')
    await server.connect(ada, 'ada')
    docs = join(root, 'ada-home/Documents')
    await makeTree(docs)
    await ada.ok('backup', 'add', docs)
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('leaves no snapshot; the next run completes, sends only what the server lacks, restores byte for byte, and the store scrubs clean', async () => {
    // Killed once the server has stored part of the backup, while files are still being read.
    const started = await ada.control<Job>('POST', '/v1/backup/run')
    let job = started
    await waitFor(async () => {
      job = await ada.control<Job>('POST', '/v1/backup/job', { id: started.id })
      if (job.state !== 'running') throw new Error(`the backup ended (${job.state}) before it could be killed: make the tree larger`)
      return (job.progress.sentBytes ?? 0) > 0
    }, `the backup to have sent something\n${ada.log}`, 60_000, 10)
    const killed = ada.agent!
    const exited = new Promise(resolve => killed.once('exit', resolve))
    killed.kill('SIGKILL')
    await exited
    expect(killed.signalCode).toBe('SIGKILL')
    expect(job.progress.files).toBeLessThan(job.progress.needFiles)
    const storedByKilled = job.progress.sentBytes!

    // The server keeps going; a half backup is not a snapshot.
    expect((await admin.get('/api/v1/backup/snapshots')).body.snapshots).toEqual([])

    await ada.start()
    await waitFor(async () => (await ada.status()).peers.some(p => p.connected), `ada to reach the server again\n${ada.log}`, 60_000)
    const run = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult
    expect(run.counters.files).toBe(FILES + 7)
    // The chunks the killed run had stored are not sent again: the server said it has them.
    expect(run.counters.sentBytes).toBeLessThanOrEqual(run.counters.bytes - storedByKilled + 64 * 1024)
    expect(run.snapshot.received.bytes).toBe(run.counters.sentBytes)

    const snapshots = (await admin.get('/api/v1/backup/snapshots')).body.snapshots as Array<{ id: string }>
    expect(snapshots.map(s => s.id)).toEqual([run.snapshot.id])
    expect((JSON.parse(await ada.ok('restore', 'list', '--json')) as Array<{ id: string }>).map(s => s.id)).toEqual([run.snapshot.id])

    const to = join(root, 'restored')
    await ada.ok('restore', run.snapshot.id, docs, '--to', to)
    expect(await describeTree(join(to, 'Documents'))).toEqual(await describeTree(docs))

    const scrub = await admin.post('/api/v1/backup/scrub', {})
    expect(scrub.status).toBe(200)
    expect(scrub.body.report).toMatchObject({ damaged: [], snapshots: [] })
    expect(scrub.body.report.checked).toBeGreaterThan(FILES)
  })
})
