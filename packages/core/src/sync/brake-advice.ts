import { FOLDER_MARKER } from '../scan/folder-marker.ts'
import type { FolderStatus } from './folder-runner.ts'

/** What the user should do about a folder that waits for confirmation (for the CLI, logs, UI). */
export function brakeAdvice (folder: Pick<FolderStatus, 'id' | 'path' | 'brake'>): string | undefined {
  switch (folder.brake) {
    case 'root-missing':
    case 'marker-missing':
      return `${folder.path} is missing or not mounted (no ${FOLDER_MARKER} marker), so nothing was recorded: mount the disk or restore the folder; if it moved, \`aerie folder remove ${folder.id}\` and add the new place`
    case 'mass-deletion':
      return `most files of ${folder.path} are gone, so nothing was recorded: put them back, or \`aerie folder confirm ${folder.id}\` if they really should be deleted everywhere`
    default:
      return undefined
  }
}
