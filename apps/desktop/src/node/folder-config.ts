import { randomBytes } from 'node:crypto'
import { InvalidInputError, isDirectory, NotConfiguredError, readFolderMarker, writeFolderMarker } from '@aerie/core/basics'
import type { DeviceConfig, DeviceHome, FolderConfig } from './device-home.ts'

/**
 * Adding, removing, pausing a synced folder and its version retention in config.json: one place
 * for the CLI (`aerie folder add/remove/pause/resume/retention`) and the UI. The running agent picks the change up with reloadFolders().
 */
export const FOLDER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/

export interface NewFolder {
  /** Absolute. */
  path: string
  id?: string
  label?: string
}

/** Marks the directory as the folder and records it; nothing else on disk changes. */
export async function addFolder (home: DeviceHome, input: NewFolder): Promise<FolderConfig> {
  const { path } = input
  if (!await isDirectory(path)) throw new InvalidInputError(`${path} is not a directory; create it first`)
  const id = input.id ?? newFolderId()
  if (!FOLDER_ID.test(id)) throw new InvalidInputError(`folder id "${id}" must be 1-64 lower-case letters, digits, '.', '_' or '-'`)
  const config = await home.readConfig()
  if (config.folders.some(f => f.id === id)) throw new InvalidInputError(`this device already has a folder "${id}"`)
  const samePath = config.folders.find(f => f.path === path)
  if (samePath != null) throw new InvalidInputError(`${path} is already synced as folder "${samePath.id}"`)
  // A marker naming another folder means the directory belongs to that one: do not mix them.
  const marker = await readFolderMarker(path)
  if (marker != null && marker !== id) throw new InvalidInputError(`${path} is marked as folder "${marker}"; add it with --id ${marker}`)
  await writeFolderMarker(path, id)
  const folder = { id, path, label: input.label ?? id }
  config.folders.push(folder)
  await home.writeConfig(config)
  return folder
}

/** Stops syncing the folder; its files stay where they are. */
export async function removeFolder (home: DeviceHome, id: string): Promise<FolderConfig> {
  const config = await home.readConfig()
  const folder = folderIn(config, id)
  config.folders = config.folders.filter(f => f !== folder)
  await home.writeConfig(config)
  return folder
}

/** Pauses or resumes a folder (kept in config.json, so it stays so across restarts). */
export async function setFolderPaused (home: DeviceHome, id: string, paused: boolean): Promise<FolderConfig> {
  const config = await home.readConfig()
  const folder = folderIn(config, id)
  if (paused) folder.paused = true
  else delete folder.paused
  await home.writeConfig(config)
  return folder
}

/** Sets how long the folder's version history keeps files (what is not given stays as it was); returns the folder. */
export async function setFolderRetention (home: DeviceHome, id: string, policy: { keepVersions?: number, maxAgeDays?: number }): Promise<FolderConfig> {
  if (policy.keepVersions !== undefined && (!Number.isSafeInteger(policy.keepVersions) || policy.keepVersions < 1)) {
    throw new InvalidInputError(`keep at least 1 version of each file, as a whole number (not ${policy.keepVersions})`)
  }
  if (policy.maxAgeDays !== undefined && (!Number.isFinite(policy.maxAgeDays) || policy.maxAgeDays < 0)) {
    throw new InvalidInputError(`days must be a number of days, 0 to keep versions however old (not ${policy.maxAgeDays})`)
  }
  const config = await home.readConfig()
  const folder = folderIn(config, id)
  folder.versions = { ...folder.versions, ...policy }
  await home.writeConfig(config)
  return folder
}

/** The folder `id` of this device's configuration; a missing one is refused, saying where they are listed. */
export function folderIn (config: DeviceConfig, id: string): FolderConfig {
  const folder = config.folders.find(f => f.id === id)
  if (folder === undefined) throw new NotConfiguredError(`no folder "${id}" on this device; \`aerie status\` lists them`)
  return folder
}

/** Like Syncthing's: short, typeable, unlikely to collide within an organisation. */
function newFolderId (): string {
  const text = randomBytes(5).toString('hex')
  return `${text.slice(0, 5)}-${text.slice(5)}`
}
