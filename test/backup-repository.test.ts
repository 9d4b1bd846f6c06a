import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BACKUP_ERROR, BACKUP_GET, BACKUP_LACKS, BACKUP_OK, BACKUP_OK_COMPRESSED, BACKUP_PUT, BACKUP_PUT_COMPRESSED, BACKUP_REFUSED, BACKUP_REQUEST, backupFrame, backupPaths, chunkId, chunkIdHex,
  compressIfItPays, decompress, encodeTree, MAX_BACKUP_BLOB, openPackStore, readSizeField, sizeField
} from '@aerie/core'
import { zstdCompressSync } from 'node:zlib'
import { createAuditLog } from '../apps/server/src/audit/audit-log.ts'
import { backupService } from '../apps/server/src/backup/backup-service.ts'
import { openServerMetadata } from '../apps/server/src/metadata/server-db.ts'
import type { BackupTarget, ChunkStore, FrameParts } from '@aerie/core'
import type { BackupService, BackupSession } from '../apps/server/src/backup/backup-service.ts'
import type { ServerMetadata } from '../apps/server/src/metadata/stores.ts'

// The server's side of /aerie/backup/1.1.0, frame by frame, as a device (or a forger) sends
// them: only what is verified is stored, only complete snapshots are accepted, and a device
// reads only its own snapshots and can never delete or rewrite one.

const ADA = { deviceId: 'adaadaadaadaadaa', deviceName: 'ada-laptop', user: 'ada@example.com', address: '/ip4/127.0.0.1/tcp/1' }
const BOB = { deviceId: 'bobbobbobbobbobb', deviceName: 'bob-laptop', user: 'bob@example.com', address: '/ip4/127.0.0.1/tcp/2' }

const json = (session: BackupSession, message: unknown): Promise<FrameParts> => session.answer(backupFrame(BACKUP_REQUEST, new TextEncoder().encode(JSON.stringify(message))))
const body = (frame: FrameParts): { code?: string, message?: string, type?: string, snapshot?: { id: string, root: string }, snapshots?: Array<{ id: string }> } =>
  JSON.parse(new TextDecoder().decode(frame.subarray(1)))

/** A device's target through a session: the same frames the remote client sends. */
function sessionTarget (session: BackupSession): BackupTarget {
  return {
    async lacks (hashes) {
      const reply = await session.answer(backupFrame(BACKUP_LACKS, ...hashes))
      return [...reply.subarray(1)].map(b => b === 1)
    },
    async put (hash, bytes) {
      const reply = await session.answer(backupFrame(BACKUP_PUT, hash, bytes))
      if (reply.get(0) !== BACKUP_OK) throw new Error(body(reply).message)
      return bytes.byteLength
    }
  }
}

describe('the backup repository on the team server', () => {
  let root: string
  let store: ChunkStore
  let metadata: ServerMetadata
  let ada: BackupSession
  let bob: BackupSession
  let service: BackupService
  let adaSnapshot: { id: string, root: string }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-backup-repo-'))
    store = await openPackStore({ dir: join(root, 'store'), dataKey: createSecretKey(randomBytes(32)) })
    metadata = openServerMetadata(join(root, 'server.db'))
    service = backupService({ store, snapshots: metadata.backups, audit: createAuditLog(metadata.audit), log: () => {} })
    ada = service.session(ADA)
    bob = service.session(BOB)
    const src = join(root, 'ada/Documents')
    await mkdir(src, { recursive: true })
    await writeFile(join(src, 'secret.txt'), 'ada\'s secret')
    const result = await backupPaths({ paths: [src], target: sessionTarget(ada) })
    const committed = await json(ada, { type: 'commit', snapshot: { root: chunkIdHex(result.root), paths: result.paths, startedAt: new Date().toISOString(), counters: { files: 1 } } })
    expect(committed.get(0)).toBe(BACKUP_OK)
    adaSnapshot = body(committed).snapshot!
  })
  afterEach(async () => {
    await store.close()
    metadata.close()
    await rm(root, { recursive: true, force: true })
  })

  it('answers another device\'s snapshot as unknown, and refuses its blobs', async () => {
    const forged = await json(bob, { type: 'open', id: adaSnapshot.id, purpose: 'restore' })
    expect(forged.get(0)).toBe(BACKUP_ERROR)
    expect(body(forged).code).toBe('ERR_SNAPSHOT_NOT_FOUND')
    expect(body(await json(bob, { type: 'list' })).snapshots).toEqual([])
    // Knowing the root's id is not enough to read it.
    const read = await bob.answer(backupFrame(BACKUP_GET, Buffer.from(adaSnapshot.root, 'hex')))
    expect(read.get(0)).toBe(BACKUP_REFUSED)
    // Its owner reads it once opened, and the restore is audited.
    expect((await ada.answer(backupFrame(BACKUP_GET, Buffer.from(adaSnapshot.root, 'hex')))).get(0)).toBe(BACKUP_REFUSED)
    expect((await json(ada, { type: 'open', id: adaSnapshot.id.slice(0, 6), purpose: 'restore' })).get(0)).toBe(BACKUP_OK)
    expect((await ada.answer(backupFrame(BACKUP_GET, Buffer.from(adaSnapshot.root, 'hex')))).get(0)).toBe(BACKUP_OK)
    const actions = metadata.audit.list({ limit: 10 }).map(e => `${e.action} ${e.target}`)
    expect(actions).toEqual([`backup.restore ${adaSnapshot.id}`, `backup.snapshot_added ${adaSnapshot.id}`])
  })

  it('has no way to delete or rewrite a snapshot: unknown requests are refused, and the table refuses updates', async () => {
    for (const type of ['delete', 'prune', 'rewrite', 'update']) {
      const reply = await json(ada, { type, id: adaSnapshot.id })
      expect(reply.get(0)).toBe(BACKUP_ERROR)
      expect(body(reply).code).toBe('ERR_PROTOCOL')
    }
    expect((await ada.answer(backupFrame(9, randomBytes(10)))).get(0)).toBe(BACKUP_ERROR)
    expect(metadata.backups.listSnapshots().map(s => s.id)).toEqual([adaSnapshot.id])
    const db = new DatabaseSync(join(root, 'server.db'))
    expect(() => db.exec(`UPDATE backup_snapshots SET root = '${'0'.repeat(64)}'`)).toThrow(/immutable/)
    db.close()
  })

  it('stores only chunks that match their id, and accepts only snapshots whose every blob is stored', async () => {
    const bytes = randomBytes(1000)
    const wrong = await ada.answer(backupFrame(BACKUP_PUT, chunkId(randomBytes(10)), bytes))
    expect(body(wrong).code).toBe('ERR_INVALID_INPUT')
    expect((await store.stats()).uniqueBytes).toBeLessThan(2000)
    const missing = chunkId(bytes)
    const tree = encodeTree([{ name: 'f', type: 'file', mode: 0o644, mtimeMs: 0, size: 1000, chunks: [{ hash: missing, size: 1000 }] }])
    expect((await ada.answer(backupFrame(BACKUP_PUT, tree.id, tree.bytes))).get(0)).toBe(BACKUP_OK)
    const refused = await json(ada, { type: 'commit', snapshot: { root: chunkIdHex(tree.id), paths: ['/x'], startedAt: new Date().toISOString(), counters: {} } })
    expect(body(refused).code).toBe('ERR_SNAPSHOT_INCOMPLETE')
    expect((await ada.answer(backupFrame(BACKUP_PUT, missing, bytes))).get(0)).toBe(BACKUP_OK)
    const accepted = await json(ada, { type: 'commit', snapshot: { root: chunkIdHex(tree.id), paths: ['/x'], startedAt: new Date().toISOString(), counters: {} } })
    expect(accepted.get(0)).toBe(BACKUP_OK)
    expect(body(await json(ada, { type: 'list' })).snapshots).toHaveLength(2)
  })

  it('takes a compressed put, keeps it compressed, and reads it back whole', async () => {
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => `row ${i}, total ${i * 31 % 997}\n`).join(''))
    const compressed = compressIfItPays(text)!
    const id = chunkId(text)
    const reply = await ada.answer(backupFrame(BACKUP_PUT_COMPRESSED, id, sizeField(text.byteLength), compressed))
    expect(reply.get(0)).toBe(BACKUP_OK)
    const before = await store.stats()
    expect(await store.get(id)).toEqual(text)
    // What the device sent is what takes the room: a fraction of the text.
    const tree = encodeTree([{ name: 't.txt', type: 'file', mode: 0o644, mtimeMs: 0, size: text.byteLength, chunks: [{ hash: id, size: text.byteLength }] }])
    expect((await ada.answer(backupFrame(BACKUP_PUT, tree.id, tree.bytes))).get(0)).toBe(BACKUP_OK)
    expect(before.storedBytes).toBeLessThan((await store.stats()).uniqueBytes / 2)
    const committed = await json(ada, { type: 'commit', snapshot: { root: chunkIdHex(tree.id), paths: ['/t'], startedAt: new Date().toISOString(), counters: {} } })
    expect((await json(ada, { type: 'open', id: body(committed).snapshot!.id, purpose: 'restore' })).get(0)).toBe(BACKUP_OK)
    expect((await ada.answer(backupFrame(BACKUP_GET, tree.id))).get(0)).toBe(BACKUP_OK)
    const read = await ada.answer(backupFrame(BACKUP_GET, id))
    expect(read.get(0)).toBe(BACKUP_OK)
    expect(Buffer.from(read.subarray(1))).toEqual(text)
    // A device that unpacks (1.1.0) gets the chunk as stored: its size, then the compressed bytes.
    const unpacking = service.session(ADA, { compresses: true })
    expect((await json(unpacking, { type: 'open', id: body(committed).snapshot!.id, purpose: 'restore' })).get(0)).toBe(BACKUP_OK)
    expect((await unpacking.answer(backupFrame(BACKUP_GET, tree.id))).get(0)).toBe(BACKUP_OK)
    const packed = (await unpacking.answer(backupFrame(BACKUP_GET, id))).subarray()
    expect(packed[0]).toBe(BACKUP_OK_COMPRESSED)
    expect(readSizeField(packed, 1)).toBe(text.byteLength)
    expect(packed.byteLength).toBeLessThan(text.byteLength / 2)
    expect(decompress(packed.subarray(5), text.byteLength)).toEqual(text)
    unpacking.close()
  })

  it('refuses a compressed put that does not unpack to its size and id, or is no smaller, and stores nothing', async () => {
    const text = Buffer.from('abc '.repeat(10_000))
    const id = chunkId(text)
    const packed = zstdCompressSync(text)
    const put = async (size: number, bytes: Uint8Array, hash = id): Promise<FrameParts> => await ada.answer(backupFrame(BACKUP_PUT_COMPRESSED, hash, sizeField(size), bytes))
    const storedBefore = (await store.stats()).chunks
    // Names fewer bytes than it unpacks to (a bomb is stopped at the size it names), or more.
    expect(body(await put(1000, packed)).code).toBe('ERR_PROTOCOL')
    expect(body(await put(text.byteLength + 1, packed)).code).toBe('ERR_PROTOCOL')
    // Not zstd, not smaller than what it names, or over the blob limit.
    expect(body(await put(5000, randomBytes(100))).code).toBe('ERR_PROTOCOL')
    expect(body(await put(100, randomBytes(100))).code).toBe('ERR_PROTOCOL')
    expect(body(await put(MAX_BACKUP_BLOB + 1, packed)).code).toBe('ERR_PROTOCOL')
    // Unpacks to its size, but to other bytes than the id names.
    expect(body(await put(text.byteLength, packed, chunkId(randomBytes(10)))).code).toBe('ERR_INVALID_INPUT')
    expect((await store.stats()).chunks).toBe(storedBefore)
    expect(await store.has([id])).toEqual([false])
    expect((await put(text.byteLength, packed)).get(0)).toBe(BACKUP_OK)
    expect(await store.get(id)).toEqual(text)
  })

  it('brings a metadata database from before backups up to date, keeping what it held', async () => {
    metadata.close()
    const db = new DatabaseSync(join(root, 'server.db'))
    db.exec('DROP TABLE backup_snapshots; PRAGMA user_version = 2')
    db.close()
    metadata = openServerMetadata(join(root, 'server.db'))
    expect(metadata.backups.listSnapshots()).toEqual([])
    const check = new DatabaseSync(join(root, 'server.db'), { readOnly: true })
    expect(check.prepare('PRAGMA user_version').get()?.user_version).toBe(4)
    check.close()
  })
})
