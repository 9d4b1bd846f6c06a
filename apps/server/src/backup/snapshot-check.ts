import { chunkIdHex, decodeChunkList, SnapshotIncompleteError, walkDirectories } from '@aerie/core'
import type { ChunkStore } from '@aerie/core'

/**
 * Before a snapshot is accepted, every directory object, chunk list and chunk it refers to must
 * be in the store: a snapshot that names something the store lacks would fail its restore.
 * Directory objects found complete are remembered (until a garbage collection sweeps or a scrub
 * finds damage: `forget`), so an incremental snapshot costs only its new directories.
 */
export interface SnapshotChecker {
  check (root: Uint8Array): Promise<{ trees: number, chunks: number }>
  /** Forgets the directories remembered as complete: a scrub found damage, so they may no longer be. */
  forget (): void
}

/** Directories remembered as complete; past this the memory starts over (a check then just costs more). */
const MAX_REMEMBERED = 1_000_000
const HAS_BATCH = 4096

export function snapshotChecker (store: ChunkStore): SnapshotChecker {
  let complete = new Set<string>()
  return {
    forget () { complete = new Set() },
    async check (root) {
      const missing = (id: Uint8Array, what: string): SnapshotIncompleteError =>
        new SnapshotIncompleteError(`the snapshot refers to ${what} ${chunkIdHex(id).slice(0, 16)}… that the server does not hold; run the backup again (it sends what is missing)`)
      const read = async (id: Uint8Array, what: string): Promise<Uint8Array> => {
        const bytes = await store.get(id).catch(() => undefined)
        if (bytes === undefined) throw missing(id, what)
        return bytes
      }
      const checked: string[] = []
      let trees = 0
      let chunks = 0
      for await (const { key, refs } of walkDirectories(root, async id => await read(id, 'a directory object'), key => complete.has(key))) {
        const data = [...refs.chunks]
        for (const list of refs.lists) data.push(...decodeChunkList(await read(list, 'a chunk list')).map(c => c.hash))
        for (let i = 0; i < data.length; i += HAS_BATCH) {
          const batch = data.slice(i, i + HAS_BATCH)
          const has = await store.has(batch)
          const lost = has.indexOf(false)
          if (lost >= 0) throw missing(batch[lost]!, 'a chunk')
        }
        chunks += data.length
        trees++
        checked.push(key)
      }
      if (complete.size + checked.length > MAX_REMEMBERED) complete = new Set()
      for (const key of checked) complete.add(key)
      return { trees, chunks }
    }
  }
}
