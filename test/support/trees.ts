import { createHash } from 'node:crypto'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * What a user would compare between two synced folders: every path, its type, content hash,
 * permission bits, and a file's mtime (to the millisecond). Aerie's own bookkeeping (the
 * marker, the version history, temporary files) is left out.
 */
export async function describeTree (root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      if (prefix === '' && (name === '.aerie-folder' || name === '.aerie-versions')) continue
      if (name.startsWith('.aerie-tmp-')) continue
      const path = prefix + name
      const stats = await lstat(join(dir, name))
      const mode = (stats.mode & 0o777).toString(8)
      if (stats.isDirectory()) {
        out[path] = `dir ${mode}`
        await walk(join(dir, name), `${path}/`)
      } else if (stats.isSymbolicLink()) {
        out[path] = `symlink -> ${await readlink(join(dir, name))}`
      } else {
        const hash = createHash('sha256').update(await readFile(join(dir, name))).digest('hex').slice(0, 16)
        out[path] = `file ${mode} ${stats.size} ${hash} ${Math.floor(stats.mtimeMs)}`
      }
    }
  }
  await walk(root, '')
  return out
}

/** Whether the folders hold the same tree (see describeTree); cheap enough to poll. */
export async function sameTree (a: string, b: string): Promise<boolean> {
  try {
    return JSON.stringify(await describeTree(a)) === JSON.stringify(await describeTree(b))
  } catch {
    return false // a file vanished mid-walk: still syncing
  }
}

/** The paths where two folders differ, for a failure message. */
export async function treeDiff (a: string, b: string): Promise<string> {
  const [ta, tb] = [await describeTree(a), await describeTree(b)]
  const lines: string[] = []
  for (const path of [...new Set([...Object.keys(ta), ...Object.keys(tb)])].sort()) {
    if (ta[path] !== tb[path]) lines.push(`${path}: ${ta[path] ?? '(none)'} | ${tb[path] ?? '(none)'}`)
  }
  return lines.slice(0, 30).join('\n')
}
