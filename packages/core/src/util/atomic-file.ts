import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { syncDirectory } from './durable-io.ts'

/**
 * Writes a file so that readers see either the old content or the new, never a part:
 * write a temporary file beside it, fsync, rename over, fsync the directory.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', options.mode ?? 0o644)
  try {
    await file.writeFile(data)
    await file.sync()
  } catch (err) {
    await file.close()
    await rm(temp, { force: true })
    throw err
  }
  await file.close()
  try {
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  await syncDirectory(dir)
}
