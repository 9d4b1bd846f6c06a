import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, lstat, mkdir, open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BenchError } from './measure.ts'

/**
 * The folders the sync benchmark moves: datasets of random (incompressible) files, and
 * what is compared to tell that a receiver holds the same tree: every regular file's
 * path, size and SHA-256. Aerie's own bookkeeping (marker, version history, temporary
 * files) is left out, as a user would leave it out.
 */
const BLOCK = 16 * 1024 * 1024
/** A walk never visits more entries than this: a runaway tree fails instead of hanging. */
const MAX_ENTRIES = 2_000_000

/** `files` files of `size` random bytes, `perDir` to a directory (d0/f0.bin, d0/f1.bin, …). */
export async function writeRandomFiles (root: string, files: number, size: number, perDir: number): Promise<void> {
  const block = Buffer.allocUnsafe(Math.min(size, BLOCK))
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${Math.floor(i / perDir)}`)
    if (i % perDir === 0) await mkdir(dir, { recursive: true })
    await writeRandomFile(join(dir, `f${i}.bin`), size, block)
  }
}

/** `files` files of `size` bytes in two directories: unique/ random ones, copy/ the same bytes again. */
export async function writeDuplicatedFiles (root: string, files: number, size: number): Promise<void> {
  const half = Math.ceil(files / 2)
  await writeRandomFiles(join(root, 'unique'), half, size, half)
  await mkdir(join(root, 'copy'))
  for (let i = 0; i < files - half; i++) await copyFile(join(root, 'unique', 'd0', `f${i}.bin`), join(root, 'copy', `f${i}.bin`))
}

export async function writeRandomFile (path: string, size: number, block = Buffer.allocUnsafe(Math.min(size, BLOCK))): Promise<void> {
  const file = await open(path, 'w')
  try {
    for (let written = 0; written < size;) {
      const n = Math.min(block.byteLength, size - written)
      randomFillSync(block, 0, n)
      for (let done = 0; done < n;) done += (await file.write(block, done, n - done, written + done)).bytesWritten
      written += n
    }
  } finally {
    await file.close()
  }
}

/** path → size of every regular file: cheap enough to check before hashing. */
export async function sizesOf (root: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  await walk(root, (path, size) => { sizes.set(path, size) })
  return sizes
}

/** path → "size sha256" of every regular file. */
export async function digestOf (root: string): Promise<Map<string, string>> {
  const paths: Array<[string, number]> = []
  await walk(root, (path, size) => { paths.push([path, size]) })
  const digest = new Map<string, string>()
  for (const [path, size] of paths) digest.set(path, `${size} ${await sha256(join(root, path), size)}`)
  return digest
}

/** The first path where `actual` differs from `expected`, said for a message; undefined when they match. */
export function firstDifference<T> (expected: Map<string, T>, actual: Map<string, T>): string | undefined {
  for (const [path, value] of expected) {
    const other = actual.get(path)
    if (other === undefined) return `${path} is missing`
    if (other !== value) return `${path} is ${String(other)}, not ${String(value)}`
  }
  for (const path of actual.keys()) if (!expected.has(path)) return `${path} should not be there`
  return undefined
}

export async function sha256 (path: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  if (size <= BLOCK) {
    hash.update(await readFile(path))
  } else {
    for await (const piece of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(piece as Buffer)
  }
  return hash.digest('hex')
}

async function walk (root: string, onFile: (path: string, size: number) => void): Promise<void> {
  const pending = ['']
  let entries = 0
  while (pending.length > 0) {
    const prefix = pending.pop()!
    for (const name of await readdir(join(root, prefix))) {
      if (++entries > MAX_ENTRIES) throw new BenchError(`${root} holds more than ${MAX_ENTRIES} entries`)
      if (prefix === '' && (name === '.aerie-folder' || name === '.aerie-versions')) continue
      if (name.startsWith('.aerie-tmp-')) continue
      const path = prefix === '' ? name : `${prefix}/${name}`
      const stats = await lstat(join(root, path))
      if (stats.isDirectory()) pending.push(path)
      else if (stats.isFile()) onFile(path, stats.size)
    }
  }
}
