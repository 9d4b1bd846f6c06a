import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * A marker file in every synced folder's root. Its absence tells an empty mount point
 * (disk not mounted, folder moved away) from a folder whose files were really deleted:
 * without it the scanner records nothing, so nothing is deleted on the peers.
 */
export const FOLDER_MARKER = '.aerie-folder'

/** The version history at the folder root (see sync/version-history.ts): never scanned or synced. */
export const VERSIONS_DIR = '.aerie-versions'

/** Files being written (by the puller, the version history) start with this, at any depth: never scanned. */
export const TEMP_PREFIX = '.aerie-tmp-'

export async function writeFolderMarker (root: string, folderId: string): Promise<void> {
  await writeFile(join(root, FOLDER_MARKER), `${folderId}\n`, { flag: 'w' })
}

/** The folder id the marker names, or undefined when there is no marker. */
export async function readFolderMarker (root: string): Promise<string | undefined> {
  try {
    return (await readFile(join(root, FOLDER_MARKER), 'utf8')).trim()
  } catch {
    return undefined
  }
}

export async function isDirectory (path: string): Promise<boolean> {
  return await stat(path).then(s => s.isDirectory(), () => false)
}
