import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tarSize, tarStream } from '../../src/backup/tar-archive.ts'
import type { TarEntry } from '../../src/backup/tar-archive.ts'

const run = promisify(execFile)

async function collect (stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of stream) parts.push(part)
  return Buffer.concat(parts)
}

// The archive is checked by GNU tar, as an administrator would open it.
describe('a tar archive of snapshot entries', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'aerie-tar-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('extracts with GNU tar: long and non-ASCII names, modes, times, symlinks, empty and block-sized files; its length known before', async () => {
    const deep = `top/${'a-rather-long-directory-name/'.repeat(5)}leaf`
    const bytes = randomBytes(3 * 512)
    const odd = randomBytes(1000)
    const at = (iso: string): number => new Date(iso).getTime()
    const file = (path: string, content: Buffer, mode = 0o644): TarEntry => ({ path, type: 'file', mode, mtimeMs: at('2030-05-06T07:08:09.500Z'), size: content.byteLength, content: async function * () { yield content.subarray(0, 100); yield content.subarray(100) } })
    const entries: TarEntry[] = [
      { path: 'top', type: 'dir', mode: 0o750, mtimeMs: at('2030-01-01T00:00:00Z'), size: 0 },
      { path: deep, type: 'dir', mode: 0o755, mtimeMs: at('2030-01-02T00:00:00Z'), size: 0 },
      file(`${deep}/blocks.bin`, bytes, 0o600),
      file('top/Réunion "été".txt', odd),
      file('top/empty', Buffer.alloc(0), 0o755),
      { path: 'top/link', type: 'symlink', mode: 0o777, mtimeMs: at('2030-01-03T00:00:00Z'), size: 0, target: `${'../'.repeat(40)}elsewhere` },
      { path: 'top/empty-dir', type: 'dir', mode: 0o700, mtimeMs: at('2030-01-04T00:00:00Z'), size: 0 }
    ]
    const archive = await collect(tarStream(entries))
    expect(archive.byteLength).toBe(tarSize(entries))
    await writeFile(join(dir, 'a.tar'), archive)
    await run('tar', ['-xf', join(dir, 'a.tar'), '-C', dir])

    expect(await readFile(join(dir, deep, 'blocks.bin'))).toEqual(bytes)
    expect((await lstat(join(dir, deep, 'blocks.bin'))).mode & 0o777).toBe(0o600)
    expect((await lstat(join(dir, deep, 'blocks.bin'))).mtimeMs).toBe(at('2030-05-06T07:08:09Z'))
    expect(await readFile(join(dir, 'top/Réunion "été".txt'))).toEqual(odd)
    expect((await lstat(join(dir, 'top/empty'))).size).toBe(0)
    expect((await lstat(join(dir, 'top/empty'))).mode & 0o777).toBe(0o755)
    expect(await readlink(join(dir, 'top/link'))).toBe(`${'../'.repeat(40)}elsewhere`)
    expect((await lstat(join(dir, 'top/empty-dir'))).isDirectory()).toBe(true)
    expect((await lstat(join(dir, 'top/empty-dir'))).mode & 0o777).toBe(0o700)
    expect((await lstat(join(dir, 'top'))).mode & 0o777).toBe(0o750)
  })

  it('stops with an error when a file gives fewer or more bytes than its size, before writing the end of the archive', async () => {
    const short: TarEntry = { path: 'f', type: 'file', mode: 0o644, mtimeMs: 0, size: 10, content: async function * () { yield Buffer.alloc(4) } }
    await expect(collect(tarStream([short]))).rejects.toThrow(/gave 4 bytes, not its 10/)
    const long: TarEntry = { ...short, content: async function * () { yield Buffer.alloc(11) } }
    await expect(collect(tarStream([long]))).rejects.toThrow(/not its 10/)
  })
})
