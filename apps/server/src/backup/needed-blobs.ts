import { chunkIdFromHex, chunkIdHex, decodeChunkList, walkDirectories } from '@aerie/core'
import type { CentralFileChunks } from './scrub.ts'

/** Reads a directory object or chunk list of `of` (a snapshot, in words): its bytes; throw to stop the walk, or undefined to go on without what it names. */
export type ReadForWalk = (id: Uint8Array, what: 'directory object' | 'chunk list', of: string) => Promise<Uint8Array | undefined>

/**
 * Every blob (hex id) that snapshots and central-copy files need: directory objects, chunk
 * lists and chunks. A subtree or chunk list that snapshots share is walked once. What garbage
 * collection keeps, and what a scrub looks for.
 */
export async function neededBlobs (
  roots: Iterable<{ root: string, of: string }>,
  centralFiles: Iterable<CentralFileChunks>,
  read: ReadForWalk,
  signal?: AbortSignal
): Promise<Set<string>> {
  const needed = new Set<string>()
  // Directory objects and chunk lists whose references are in `needed` already.
  const walked = new Set<string>()
  const listed = new Set<string>()
  for (const { root, of } of roots) {
    for await (const { key, refs } of walkDirectories(chunkIdFromHex(root), async id => await read(id, 'directory object', of), key => walked.has(key))) {
      signal?.throwIfAborted()
      walked.add(key)
      needed.add(key)
      for (const chunk of refs.chunks) needed.add(chunkIdHex(chunk))
      for (const list of refs.lists) {
        const listKey = chunkIdHex(list)
        needed.add(listKey)
        if (listed.has(listKey)) continue
        listed.add(listKey)
        const bytes = await read(list, 'chunk list', of)
        for (const c of bytes === undefined ? [] : decodeChunkList(bytes)) needed.add(chunkIdHex(c.hash))
      }
    }
  }
  for (const file of centralFiles) {
    for (const c of file.chunks) needed.add(chunkIdHex(c.hash))
  }
  return needed
}
