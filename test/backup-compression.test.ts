import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0, backupPaths, chunkIdHex, openPackStore, openRemoteRepository, restoreSnapshot
} from '@aerie/core'
import { createAuditLog } from '../apps/server/src/audit/audit-log.ts'
import { backupService } from '../apps/server/src/backup/backup-service.ts'
import { openServerMetadata } from '../apps/server/src/metadata/server-db.ts'
import { createOrg, enrollDevice } from '../packages/core/test/pki/fixtures.ts'
import { loopbackHost } from '../packages/core/test/net/support/loopback-host.ts'
import type { AerieHost, ChunkStore, RemoteRepository } from '@aerie/core'
import type { ServerMetadata } from '../apps/server/src/metadata/stores.ts'

// A device backs up text to a server over real libp2p connections: compressed on the wire and
// in the store when the server speaks /aerie/backup/1.1.0, plain to a server that speaks only 1.0.0.

describe('backups of compressible files', () => {
  let dir: string
  let server: AerieHost
  let device: AerieHost
  let store: ChunkStore
  let metadata: ServerMetadata
  let text: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-backup-compression-'))
    const org = await createOrg()
    server = await loopbackHost(org, enrollDevice(org, { deviceName: 'server', role: 'server' }))
    device = await loopbackHost(org, enrollDevice(org, { deviceName: 'ada-laptop' }))
    store = await openPackStore({ dir: join(dir, 'store'), dataKey: createSecretKey(randomBytes(32)) })
    metadata = openServerMetadata(join(dir, 'server.db'))
    text = Array.from({ length: 40_000 }, (_, i) => `2026-11-22T10:${String(i % 60).padStart(2, '0')} GET /files/${i % 977} 200 ${i * 7919 % 100_000}\n`).join('')
    await mkdir(join(dir, 'Logs'))
    await writeFile(join(dir, 'Logs', 'access.log'), text)
    await writeFile(join(dir, 'Logs', 'photo.jpg'), randomBytes(300_000))
  }, 60_000)

  afterEach(async () => {
    await device?.stop()
    await server?.stop()
    await store?.close()
    metadata?.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** Serves backups on `protocols`, backs up Logs through a real connection, restores it, and says what crossed. */
  async function backUpAndRestore (protocols: string[]): Promise<{ received: number, plain: number, stored: number }> {
    const service = backupService({ store, snapshots: metadata.backups, audit: createAuditLog(metadata.audit), log: () => {} })
    await server.libp2p.handle(protocols, async (stream) => {
      await service.serve(stream, { deviceId: 'adaadaadaadaadaa', deviceName: 'ada-laptop', user: 'ada@example.com', address: '/ip4/127.0.0.1/tcp/1' })
    })
    await device.dial(server.addresses()[0]!)
    const repository: RemoteRepository = await openRemoteRepository(device.libp2p.getConnections()[0]!)
    try {
      const result = await backupPaths({ paths: [join(dir, 'Logs')], target: repository })
      const snapshot = await repository.commit({ root: chunkIdHex(result.root), paths: result.paths, startedAt: new Date().toISOString(), counters: {} })
      await repository.open(snapshot.id, 'restore')
      const restored = await restoreSnapshot({ source: repository, root: result.root, path: join(dir, 'Logs'), to: join(dir, 'restored') })
      expect(restored.failed).toEqual([])
      expect(await readFile(join(dir, 'restored', 'Logs', 'access.log'), 'utf8')).toBe(text)
      expect(await readFile(join(dir, 'restored', 'Logs', 'photo.jpg'))).toEqual(await readFile(join(dir, 'Logs', 'photo.jpg')))
      const stats = await store.stats()
      return { received: snapshot.received.bytes, plain: stats.uniqueBytes, stored: stats.storedBytes }
    } finally {
      await repository.close()
    }
  }

  it('sends and stores text compressed, random bytes as they are, and restores both whole', async () => {
    const { received, plain, stored } = await backUpAndRestore([BACKUP_PROTOCOL])
    // ≈ 2.2 MB of log lines and 300 kB of random bytes: the text shrinks to a fraction.
    expect(plain).toBeGreaterThan(text.length + 300_000)
    expect(received).toBeLessThan(300_000 + text.length / 4)
    expect(stored).toBeLessThan(300_000 + text.length / 4)
  })

  it('sends everything as it is to a server that speaks only 1.0.0, which still compresses what it stores', async () => {
    const { received, plain, stored } = await backUpAndRestore([BACKUP_PROTOCOL_1_0])
    expect(received).toBeGreaterThanOrEqual(plain)
    expect(stored).toBeLessThan(300_000 + text.length / 4)
  })
})
