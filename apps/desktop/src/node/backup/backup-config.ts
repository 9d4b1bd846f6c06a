import { isAbsolute, resolve } from 'node:path'
import { stat } from 'node:fs/promises'
import { InvalidInputError } from '@aerie/core/basics'
import { parseDuration } from '../cli/args.ts'
import type { BackupConfig, DeviceHome } from '../device-home.ts'

/**
 * The device's backup set in config.json: paths, excludes and schedule. The CLI changes it; the
 * running agent reads it before every run and is told to reload its schedule.
 */
export async function readBackupConfig (home: DeviceHome): Promise<BackupConfig> {
  const backup = (await home.readConfig()).backup
  return {
    paths: Array.isArray(backup?.paths) ? backup.paths.map(String) : [],
    excludes: Array.isArray(backup?.excludes) ? backup.excludes.map(String) : [],
    ...(typeof backup?.schedule === 'string' ? { schedule: backup.schedule } : {})
  }
}

async function change (home: DeviceHome, edit: (backup: BackupConfig) => void): Promise<BackupConfig> {
  const config = await home.readConfig()
  const backup = await readBackupConfig(home)
  edit(backup)
  await home.writeConfig({ ...config, backup })
  return backup
}

export async function addBackupPath (home: DeviceHome, path: string): Promise<BackupConfig> {
  const absolute = resolve(path)
  await stat(absolute).catch(() => { throw new InvalidInputError(`${absolute} does not exist; back up a directory or file that is there`) })
  return await change(home, b => { if (!b.paths.includes(absolute)) b.paths.push(absolute) })
}

export async function removeBackupPath (home: DeviceHome, path: string): Promise<BackupConfig> {
  const absolute = isAbsolute(path) ? path : resolve(path)
  return await change(home, b => {
    if (!b.paths.includes(absolute)) throw new InvalidInputError(`${absolute} is not in the backup set; \`aerie backup show\` lists it`)
    b.paths = b.paths.filter(p => p !== absolute)
  })
}

export async function addBackupExclude (home: DeviceHome, pattern: string): Promise<BackupConfig> {
  if (pattern.trim() === '' || pattern.startsWith('#')) throw new InvalidInputError(`"${pattern}" matches nothing: give a gitignore pattern such as *.tmp or node_modules/`)
  return await change(home, b => { if (!b.excludes.includes(pattern)) b.excludes.push(pattern) })
}

export async function removeBackupExclude (home: DeviceHome, pattern: string): Promise<BackupConfig> {
  return await change(home, b => {
    if (!b.excludes.includes(pattern)) throw new InvalidInputError(`"${pattern}" is not excluded; \`aerie backup show\` lists the excludes`)
    b.excludes = b.excludes.filter(p => p !== pattern)
  })
}

/** `off` clears the schedule. */
export async function setBackupSchedule (home: DeviceHome, every: string): Promise<BackupConfig> {
  if (every !== 'off') scheduleMs(every)
  return await change(home, b => { if (every === 'off') delete b.schedule; else b.schedule = every })
}

export function scheduleMs (every: string): number {
  const ms = parseDuration(every)
  if (ms < 1000) throw new InvalidInputError('a backup schedule is at least 1s')
  return ms
}
