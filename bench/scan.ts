import { randomFillSync } from 'node:crypto'
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openFolderIndex, scanFolder, writeFolderMarker } from '@aerie/core'
import { checkFlags, flag, formatBytes, machine, peakRss, scratchDir, UsageError } from './support/measure.ts'

/**
 * Scan benchmark: the first scan of a folder of many small files (walk + hash + index) and
 * the rescan with nothing changed, next to the physical reference measured in the same run:
 * a bare walk that lstat()s every entry (what any rescan must at least do).
 *
 *   npm run bench -- scan [--files 100000] [--size 4096]
 */
export const description = 'first scan and unchanged rescan of many small files, against a bare lstat walk'

const FILES_PER_DIR = 500
/** Issue #3's target for an unchanged rescan of 100,000 files. */
const RESCAN_TARGET_S = 2

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['files', 'size'])
  const files = count(flag(args, 'files') ?? '100000', '--files', 1, 1_000_000)
  const size = count(flag(args, 'size') ?? '4096', '--size', 0, 1024 * 1024)
  const scratch = await scratchDir('scan')
  const dir = scratch.path
  try {
    const root = join(dir, 'folder')
    console.log(`scan bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  ${files} files of ${formatBytes(size)} in ${Math.ceil(files / FILES_PER_DIR)} directories, page cache warm`)
    makeFolder(root, files, size)
    await writeFolderMarker(root, 'bench')
    const index = openFolderIndex(join(dir, 'index.db'), 'benchdevice00000')
    try {
      const walk = timed(() => bareWalk(root))
      const first = await timedAsync(async () => await scanFolder({ folderId: 'bench', root, index }))
      const again = await timedAsync(async () => await scanFolder({ folderId: 'bench', root, index }))
      if (first.value.changed < files || again.value.changed !== 0) {
        throw new Error(`scan recorded ${first.value.changed} then ${again.value.changed} changes; expected ${files} then 0`)
      }
      const label = (what: string): string => `scan ${what}`.padEnd(20)
      console.log(`${label('bare walk')}${walk.s.toFixed(2)} s   lstat of ${walk.value} entries (the physical reference)`)
      console.log(`${label('first scan')}${first.s.toFixed(2)} s   ${(files / first.s).toFixed(0)} files/s, ${formatBytes(first.value.hashedBytes / first.s)}/s hashed`)
      console.log(`${label('rescan')}${again.s.toFixed(2)} s   nothing changed; ${(again.s / walk.s).toFixed(1)} x the bare walk; target < ${RESCAN_TARGET_S} s for 100,000 files: ${files >= 100_000 ? (again.s < RESCAN_TARGET_S ? 'met' : 'NOT MET') : 'n/a (fewer files)'}`)
      console.log(`${label('peak RSS')}${formatBytes(peakRss('self') ?? 0)}`)
    } finally {
      index.close()
    }
  } finally {
    await scratch.remove()
  }
}

function count (text: string, what: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what}: "${text}" is not a whole number from ${min} to ${max}`)
  return n
}

function makeFolder (root: string, files: number, size: number): void {
  const data = Buffer.alloc(size)
  for (let i = 0; i < files; i++) {
    const sub = join(root, `d${Math.floor(i / FILES_PER_DIR)}`)
    if (i % FILES_PER_DIR === 0) mkdirSync(sub, { recursive: true })
    randomFillSync(data)
    writeFileSync(join(sub, `f${i}.bin`), data)
  }
}

function bareWalk (root: string): number {
  let entries = 0
  const pending = [root]
  for (let i = 0; i < 10_000_000 && pending.length > 0; i++) {
    const dir = pending.pop()!
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      entries++
      if (lstatSync(path).isDirectory()) pending.push(path)
    }
  }
  return entries
}

function timed<T> (fn: () => T): { s: number, value: T } {
  const start = performance.now()
  const value = fn()
  return { s: (performance.now() - start) / 1000, value }
}

async function timedAsync<T> (fn: () => Promise<T>): Promise<{ s: number, value: T }> {
  const start = performance.now()
  const value = await fn()
  return { s: (performance.now() - start) / 1000, value }
}
