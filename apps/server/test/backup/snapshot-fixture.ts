import { createSecretKey, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backupPaths, chunkIdHex, fileChunks, findEntry, openPackStore, storeRepository } from '@aerie/core'
import type { ChunkStore } from '@aerie/core'
import type { BackupSnapshotRecord, BackupStore } from '../../src/metadata/stores.ts'

/**
 * A real backup for the server's tests: a small tree on disk (text with a non-ASCII name, a
 * 6 MiB random file whose chunks go into chunk lists, an empty file, a symlink, a directory),
 * backed up into a real pack store, and recorded as a snapshot of a device. `damage` flips a
 * byte of one of a file's chunks in its pack, as a failing disk would.
 */
export interface BackedUpTree extends AsyncDisposable {
  store: ChunkStore
  /** The backed-up directory on disk, and the same as a path in the snapshot (no leading '/'). */
  src: string
  inSnapshot: string
  root: Uint8Array
  big: Buffer
  /** Records the tree as a snapshot of `device` with the given id, committed at `at` (now). */
  record (snapshots: BackupStore, id: string, device: { deviceId: string, deviceName: string, user: string }, at?: Date): BackupSnapshotRecord
  /** Flips a byte in chunk number `index` of the file at `path` (a path in the snapshot); returns that chunk's id (hex). */
  damage (path: string, index: number): Promise<string>
}

/** Two devices of the web tests' fake team server (fake-team-server.ts). */
export const ADA_LAPTOP = { deviceId: 'adalaptop0000001', deviceName: "Ada's laptop", user: 'ada@example.org' }
export const BOB_DESKTOP = { deviceId: 'bobdesktop000002', deviceName: "Bob's desktop", user: 'bob@example.org' }

export const NOTE_NAME = 'Réunion "été".txt'
export const NOTE = 'the minutes, in UTF-8: déjà vu\n'

export async function backedUpTree (): Promise<BackedUpTree> {
  const dir = await mkdtemp(join(tmpdir(), 'aerie-snapshot-'))
  const storeDir = join(dir, 'store')
  const store = await openPackStore({ dir: storeDir, dataKey: createSecretKey(randomBytes(32)) })
  const src = join(dir, 'ada', 'Documents')
  const big = randomBytes(6 * 1024 * 1024)
  await mkdir(join(src, 'photos', '2030'), { recursive: true })
  await writeFile(join(src, NOTE_NAME), NOTE)
  await writeFile(join(src, 'empty.txt'), '')
  await writeFile(join(src, 'photos', 'big.raw'), big, { mode: 0o600 })
  await writeFile(join(src, 'photos', '2030', 'beach.jpg'), randomBytes(50_000))
  await symlink('photos/big.raw', join(src, 'latest'))
  const result = await backupPaths({ paths: [src], target: storeRepository(store) })
  const source = storeRepository(store)
  return {
    store,
    src,
    inSnapshot: src.slice(1),
    root: result.root,
    big,
    record: (snapshots, id, device, at = new Date()) => snapshots.addSnapshot({
      ...device, id, root: chunkIdHex(result.root), paths: result.paths, startedAt: new Date(at.getTime() - 60_000), committedAt: at,
      counters: { files: result.counters.files, bytes: result.counters.bytes }, received: { chunks: result.counters.sentChunks, bytes: result.counters.sentBytes }
    }),
    async damage (path, index) {
      const chunk = (await fileChunks(source, await findEntry(source, result.root, path)))[index]!
      for (const name of await readdir(join(storeDir, 'packs'), { recursive: true })) {
        if (!name.endsWith('.pack')) continue
        const pack = join(storeDir, 'packs', name)
        // A pack entry starts with the chunk's id in the clear; its sealed bytes follow the 36-byte header.
        const at = (await readFile(pack)).indexOf(chunk.hash)
        if (at < 0) continue
        const file = await open(pack, 'r+')
        try {
          const byte = Buffer.alloc(1)
          await file.read(byte, 0, 1, at + 36 + 100)
          byte[0] = byte[0]! ^ 0x40
          await file.write(byte, 0, 1, at + 36 + 100)
        } finally {
          await file.close()
        }
        return chunkIdHex(chunk.hash)
      }
      throw new Error(`chunk ${index} of ${path} is in no pack`)
    },
    async [Symbol.asyncDispose] () {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
