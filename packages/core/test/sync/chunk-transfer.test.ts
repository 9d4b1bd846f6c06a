import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chunkFile, openFolderIndex } from '../../src/index.ts'
import { createChunkClient } from '../../src/sync/chunk-client.ts'
import { serveChunks } from '../../src/sync/chunk-server.ts'
import { createLocalChunks } from '../../src/sync/local-chunks.ts'
import { CHUNK_PROTOCOL } from '../../src/protocol/index.ts'
import { createOrg, enrollDevice } from '../pki/fixtures.ts'
import { loopbackHost } from '../net/support/loopback-host.ts'
import type { AerieHost, FolderIndex } from '../../src/index.ts'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

// The chunk protocol between two real hosts: many requests in flight on one stream, answers
// in order, a refusal for a folder the requester may not read, nothing for a chunk not held.
describe('chunk requests between two devices', () => {
  let server: AerieHost
  let client: AerieHost
  let index: FolderIndex
  let dir: string
  let chunks: Array<{ hash: Uint8Array, size: number }>

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aerie-chunks-'))
    const org = await createOrg()
    const [a, b] = [enrollDevice(org, { deviceName: 'server' }), enrollDevice(org, { deviceName: 'client' })]
    server = await loopbackHost(org, a)
    client = await loopbackHost(org, b)
    await mkdir(join(dir, 'folder'))
    const data = randomBytes(8 * 1024 * 1024)
    await writeFile(join(dir, 'folder', 'big.bin'), data)
    chunks = (await chunkFile(join(dir, 'folder', 'big.bin'))).map(c => ({ hash: c.hash, size: c.size }))
    index = openFolderIndex(join(dir, 'index.db'), a.deviceId)
    index.updateLocal('shared', [{ path: 'big.bin', type: 'file', size: data.length, mtimeMs: 1, mode: 0o644, deleted: false, chunks }])
    const local = createLocalChunks(index, folder => folder === 'shared' ? join(dir, 'folder') : undefined)
    await server.libp2p.handle(CHUNK_PROTOCOL, async (stream) => {
      await serveChunks(stream, { chunks: local, mayRead: folder => folder === 'shared' }).catch((e) => { console.log('SERVER', e) })
    })
    await client.dial(server.addresses()[0]!)
  }, 60_000)

  afterAll(async () => {
    await client?.stop()
    await server?.stop()
    index?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('answers every request of a pipelined burst with the right bytes', async () => {
    const connection = client.libp2p.getConnections()[0]!
    const requests = createChunkClient(connection)
    const answers = await Promise.all(chunks.map(async c => await requests.request('shared', c.hash, c.size)))
    for (const [i, bytes] of answers.entries()) {
      expect(bytes?.byteLength).toBe(chunks[i]!.size)
      expect(createHash('sha256').update(bytes!).digest().equals(Buffer.from(chunks[i]!.hash))).toBe(true)
    }
    expect(requests.bytesIn).toBeGreaterThanOrEqual(8 * 1024 * 1024)
    await requests.close()
  })

  it('answers requests out of file order, and for the last chunk of a file', async () => {
    const requests = createChunkClient(client.libp2p.getConnections()[0]!)
    const order = [...chunks.keys()].reverse()
    order.splice(1, 0, ...order.splice(-3)) // the first chunks between the last ones
    const answers = await Promise.all(order.map(async i => await requests.request('shared', chunks[i]!.hash, chunks[i]!.size)))
    for (const [n, i] of order.entries()) expect(sha256(answers[n]!)).toBe(Buffer.from(chunks[i]!.hash).toString('hex'))
    await requests.close()
  })

  it('sends the new bytes of a file changed in place right after some of it was sent', async () => {
    const path = join(dir, 'folder', 'edited.bin')
    const before = randomBytes(2 * 1024 * 1024)
    await writeFile(path, before)
    const record = async (): Promise<Array<{ hash: Uint8Array, size: number }>> => {
      const { ino, mtimeMs, size } = await stat(path)
      const list = (await chunkFile(path)).map(c => ({ hash: c.hash, size: c.size }))
      index.updateLocal('shared', [{ path: 'edited.bin', type: 'file', size, mtimeMs: Math.floor(mtimeMs), mode: 0o644, deleted: false, chunks: list, inode: ino }])
      return list
    }
    const old = await record()
    const requests = createChunkClient(client.libp2p.getConnections()[0]!)
    expect(sha256((await requests.request('shared', old[0]!.hash, old[0]!.size))!)).toBe(Buffer.from(old[0]!.hash).toString('hex'))
    // The same size, written over in place (same inode), and scanned again.
    const after = randomBytes(before.byteLength)
    const file = await open(path, 'r+')
    await file.write(after, 0, after.byteLength, 0)
    await file.close()
    const fresh = await record()
    const answers = await Promise.all(fresh.map(async c => await requests.request('shared', c.hash, c.size)))
    expect(sha256(Buffer.concat(answers.map(a => a!)))).toBe(sha256(after))
    await requests.close()
  })

  it('sends nothing from a file that was swapped for a symlink to a file outside the folder', async () => {
    const folder = join(dir, 'folder')
    // Under FastCDC's 16 KiB minimum: one chunk.
    const mine = randomBytes(12_000)
    await writeFile(join(folder, 'notes.bin'), mine)
    const { ino, mtimeMs } = await stat(join(folder, 'notes.bin'))
    const [chunk] = await chunkFile(join(folder, 'notes.bin'))
    index.updateLocal('shared', [{ path: 'notes.bin', type: 'file', size: mine.length, mtimeMs: Math.floor(mtimeMs), mode: 0o644, deleted: false, chunks: [{ hash: chunk!.hash, size: chunk!.size }], inode: ino }])
    // Replaced behind the scanner's back by a link to something else of the same size.
    const outside = randomBytes(12_000)
    await writeFile(join(dir, 'outside.bin'), outside)
    await rm(join(folder, 'notes.bin'))
    await symlink(join(dir, 'outside.bin'), join(folder, 'notes.bin'))
    const requests = createChunkClient(client.libp2p.getConnections()[0]!)
    expect(await requests.request('shared', chunk!.hash, chunk!.size)).toBeUndefined()
    await requests.close()
  })

  it('answers a small file\'s one chunk, and nothing, at once, for files swapped for a FIFO', async () => {
    const recorded = async (name: string, size: number): Promise<{ bytes: Uint8Array, chunk: { hash: Uint8Array, size: number } }> => {
      const path = join(dir, 'folder', name)
      const bytes = randomBytes(size)
      await writeFile(path, bytes)
      const { ino, mtimeMs } = await stat(path)
      const list = (await chunkFile(path)).map(c => ({ hash: c.hash, size: c.size }))
      index.updateLocal('shared', [{ path: name, type: 'file', size, mtimeMs: Math.floor(mtimeMs), mode: 0o644, deleted: false, chunks: list, inode: ino }])
      return { bytes, chunk: list[0]! }
    }
    const small = await recorded('small.bin', 4096)
    // Under FastCDC's minimum (read whole, at once) and over it (read through kept-open files).
    const swapped = [await recorded('swapped.bin', 4096), await recorded('swapped-large.bin', 100_000)]
    // Opening a FIFO to read waits for a writer: the server must not.
    for (const name of ['swapped.bin', 'swapped-large.bin']) {
      await rm(join(dir, 'folder', name))
      execFileSync('mkfifo', [join(dir, 'folder', name)])
    }
    const requests = createChunkClient(client.libp2p.getConnections()[0]!)
    for (const { chunk } of swapped) expect(await requests.request('shared', chunk.hash, chunk.size)).toBeUndefined()
    expect(sha256((await requests.request('shared', small.chunk.hash, small.chunk.size))!)).toBe(sha256(small.bytes))
    await requests.close()
  })

  it('has nothing for a chunk it does not hold, and refuses a folder the peer may not read', async () => {
    const requests = createChunkClient(client.libp2p.getConnections()[0]!)
    expect(await requests.request('shared', new Uint8Array(32), 100)).toBeUndefined()
    await expect(requests.request('private', chunks[0]!.hash, chunks[0]!.size)).rejects.toThrow(/not a member/)
    await requests.close()
  })
})
