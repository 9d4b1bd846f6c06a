import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chunkId, openPackStore, TokenBucket } from '@aerie/core'
import type { ChunkStore } from '@aerie/core'
import { backupAdmin } from '../../src/backup/backup-admin.ts'
import { runScrub } from '../../src/backup/scrub.ts'
import type { ScrubProgress } from '../../src/backup/scrub.ts'
import type { AuditLog } from '../../src/audit/audit-log.ts'
import type { BackupStore, ScrubReport } from '../../src/metadata/stores.ts'

// The daily scrub reads the store back at a set pace, leaving the disk to backups and restores;
// a scrub someone asks for now runs at full speed, and speeds up a paced one it joins. Over a
// real pack store, with a clock of the test's own (no waiting).

const MiB = 1024 * 1024
const noSnapshots = { listSnapshots: () => [], addScrub: () => {}, lastScrub: () => undefined } as unknown as BackupStore
const quietAudit = { record: () => {} } as unknown as AuditLog

describe('the scrub\'s pace', () => {
  let dir: string
  let store: ChunkStore

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-scrub-pace-'))
    store = await openPackStore({ dir, dataKey: createSecretKey(randomBytes(32)) })
    // 12 MiB in 96 chunks the store cannot compress: about three 4 MiB reads back.
    for (let i = 0; i < 96; i++) {
      const bytes = randomBytes(128 * 1024)
      await store.put(chunkId(bytes), bytes)
    }
  })
  afterEach(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('reads every byte back under the pace: 12 MiB at 1 MiB/s waits about 11 s (a second\'s burst)', async () => {
    let clock = 0
    const waits: number[] = []
    const pace = new TokenBucket({ rate: MiB, now: () => clock, sleep: async ms => { waits.push(ms); clock += ms } })
    const heard: ScrubProgress[] = []
    const report = await runScrub({ store, snapshots: noSnapshots, centralFiles: () => [] }, { pace, onProgress: p => heard.push(p) })
    expect(report).toMatchObject({ checked: 96, damaged: [] })
    const read = pace.stats().bytes
    expect(read).toBeGreaterThanOrEqual(12 * MiB)
    expect(read).toBeLessThan(13 * MiB)
    expect(waits.reduce((a, b) => a + b, 0)).toBeCloseTo((read - MiB) / MiB * 1000, -1)
    expect(heard.every(p => p.pace === MiB)).toBe(true)
  })

  it('paces the daily scrub only, and an ask for a scrub now lifts the pace of the one it joins', async () => {
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    const paces: number[] = []
    const admin = backupAdmin({
      snapshots: noSnapshots,
      audit: quietAudit,
      log: () => {},
      scrubRate: 8 * MiB,
      // Held before it reads, so that the test can ask again while it runs.
      scrub: async (onProgress, pace): Promise<ScrubReport> => {
        paces.push(pace.stats().rate)
        await held
        paces.push(pace.stats().rate)
        return await runScrub({ store, snapshots: noSnapshots, centralFiles: () => [] }, { onProgress, pace })
      }
    })
    const daily = admin.scrub(undefined, { paced: true })
    expect(paces).toEqual([8 * MiB])
    const seen: ScrubProgress[] = []
    const now = admin.scrub(p => seen.push(p))
    release()
    const [a, b] = await Promise.all([daily, now])
    expect(a).toBe(b)
    expect(paces).toEqual([8 * MiB, 0])
    expect(seen.length).toBeGreaterThan(0)
    expect(seen.every(p => p.pace === 0)).toBe(true)
    expect(admin.scrubProgress()).toBeUndefined()

    // Asked for now with none running: full speed from the start.
    await admin.scrub()
    expect(paces).toEqual([8 * MiB, 0, 0, 0])
  })
})
