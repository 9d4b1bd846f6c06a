import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach } from 'vitest'
import { openFolderIndex } from '../../src/index/index.ts'
import { scanFolder, writeFolderMarker } from '../../src/scan/index.ts'
import type { FolderIndex } from '../../src/index/index.ts'
import type { ScanOptions } from '../../src/scan/index.ts'

export const FOLDER_ID = 'f1'

/** Bounds for vi.waitFor: what the watcher sees shows up well within this, or the test fails. */
export const EVENTUALLY = { timeout: 5_000, interval: 20 }

export interface TempFolder {
  dir: string
  root: string
  index: FolderIndex
  /** Writes a file, making its parent directories. */
  write (path: string, content?: string | Uint8Array): Promise<void>
  scan (extra?: Partial<ScanOptions>): ReturnType<typeof scanFolder>
  local (path: string): ReturnType<FolderIndex['getLocal']>
}

/** A synced folder (with its marker) and an empty index, made before each test and removed after it. */
export function useTempFolder (): TempFolder {
  const folder = {} as TempFolder
  beforeEach(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aerie-scan-'))
    const root = join(dir, 'folder')
    await mkdir(root)
    await writeFolderMarker(root, FOLDER_ID)
    const index = openFolderIndex(join(dir, 'index.db'), 'devicea')
    Object.assign(folder, {
      dir,
      root,
      index,
      async write (path: string, content: string | Uint8Array = path) {
        await mkdir(dirname(join(root, path)), { recursive: true })
        await writeFile(join(root, path), content)
      },
      async scan (extra = {}) { return await scanFolder({ folderId: FOLDER_ID, root, index, ...extra }) },
      local: (path: string) => index.getLocal(FOLDER_ID, path)
    })
  })
  afterEach(async () => {
    folder.index.close()
    await rm(folder.dir, { recursive: true, force: true })
  })
  return folder
}
