import { formatBytes } from '@aerie/core/basics'
import { lstat, realpath } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { brakeAdvice, DEFAULT_RETENTION, InvalidInputError, VERSIONS_DIR } from '@aerie/core'
import { tryCallAgent } from '../control-client.ts'
import { restoreVersion, versionsOf } from '../versions.ts'
import { folderIn, setFolderRetention } from '../folder-config.ts'
import { formatTime } from './progress-line.ts'
import { parse, parseDuration, UsageError } from './args.ts'
import type { FolderStatus, ServerVersion } from '@aerie/core'
import type { VersionTarget } from '../versions.ts'
import type { DeviceHome, FolderConfig } from '../device-home.ts'
import type { CommandContext } from './main.ts'

/**
 * `aerie versions`: the old content the sync set aside (packages/core/src/sync/version-history.ts),
 * found by the path a person knows, and brought back as an ordinary change. It works on
 * disk, so no agent has to run; times are shown in local time with their offset, in a
 * form `--at` takes back.
 */

const TIME_FORMS = 'give a date-time such as 2026-11-22T10:15:00 (local time unless it ends in Z or an offset like +01:00), ' +
  'a time from a version\'s name such as 20261122-101500 (UTC), a time ago such as 10m, 2h or 3d, or now'

/** A path a person gave, placed in one of this device's folders. */
export interface Target {
  folder: FolderConfig
  /** The folder path: '/'-separated, NFC; '' for the folder root. */
  rel: string
  disk: string
  kind: 'directory' | 'file' | 'missing'
}

/** `aerie versions PATH [--json]`: a file's versions, or those of every file under a directory. */
export async function versions ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: 'PATH (a file or directory in a synced folder)' })
  const arg = positionals[0]!
  const target = await locate(home, arg)
  const found = await versionsOf(onDisk(target))
  const server = await serverVersionsOf(home, target)
  if (values.json === true) {
    out(JSON.stringify({ folder: target.folder.id, root: target.folder.path, path: target.rel, versions: found, server: server.versions, ...(server.note === undefined ? {} : { serverNote: server.note }) }))
    return
  }
  const what = target.rel === '' ? `folder ${target.folder.id}` : `"${target.rel}" in folder ${target.folder.id}`
  const kept = server.versions.filter(v => v.replacedAt !== undefined)
  if (kept.length > 0) {
    out(`the team server keeps ${kept.length} older ${kept.length === 1 ? 'version' : 'versions'} of ${what}, newest first:`)
    const rows = [['REPLACED', 'MODIFIED', 'SIZE', 'PATH']]
    for (const v of kept) rows.push([formatTime(new Date(v.replacedAt!)), formatTime(new Date(v.mtimeMs)), v.deleted ? 'deleted' : formatBytes(v.size), v.path])
    for (const line of table(rows)) out(`  ${line}`)
  } else if (server.note !== undefined) {
    out(server.note)
  }
  if (found.length === 0) {
    out(`${what} has no versions: the sync keeps a file's old content when it replaces or deletes it ` +
      `(${retentionInWords(target.folder, 'each file')}: \`aerie folder retention ${target.folder.id}\`)`)
    return
  }
  const many = target.kind === 'directory' || found.some(v => v.path !== target.rel)
  out(`${what}: ${found.length} ${found.length === 1 ? 'version' : 'versions'}, ${many ? 'by path, ' : ''}newest first`)
  const rows = [['ARCHIVED', 'MODIFIED', 'SIZE', ...many ? ['PATH'] : []]]
  for (const v of found) rows.push([formatTime(v.archivedAt), formatTime(v.mtime), formatBytes(v.size), ...many ? [v.path] : []])
  for (const line of table(rows)) out(`  ${line}`)
  const example = found[0]!
  out(`restore the content as it was at a MODIFIED time: aerie versions restore ${shellArg(pathFor(arg, target.rel, example.path))} --at ${formatTime(example.mtime)}`)
}

/** `aerie versions restore PATH --at TIME`: the content current at TIME becomes the file again. */
export async function versionsRestore ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { at: { type: 'string' } }, { min: 1, max: 1, names: 'PATH (a file in a synced folder) and --at TIME' })
  if (values.at === undefined) throw new UsageError(`versions restore needs --at TIME: ${TIME_FORMS}`)
  const at = parseTime(values.at as string)
  const arg = positionals[0]!
  const target = await locate(home, arg)
  const replaced = target.kind === 'file' ? (await lstat(target.disk)).mtime : undefined
  const restored = await restoreVersion(onDisk(target), at,
    async () => await tryCallAgent<ServerVersion>(home, 'POST', '/v1/versions/server-restore', { folder: target.folder.id, path: target.rel, at: at.toISOString() }),
    `${target.disk} is a directory: restore its files one at a time (\`aerie versions ${shellArg(arg)}\` lists them)`)
  if ('server' in restored) {
    out(`the team server restored "${target.rel}" to the version modified ${formatTime(new Date(restored.server.mtimeMs))}; it syncs to ${target.disk} in a moment`)
    return
  }
  const version = restored.local
  out(`restored ${target.disk} to the version modified ${formatTime(version.mtime)} (archived ${formatTime(version.archivedAt)})`)
  if (replaced != null) {
    out(`the content it replaced is in the history; undo with: aerie versions restore ${shellArg(arg)} --at ${formatTime(replaced)}`)
  }
  // The agent's watcher would see the new file anyway; a rescan sends it out now.
  const scanned = await tryCallAgent<FolderStatus>(home, 'POST', '/v1/folders/rescan', { id: target.folder.id })
    .catch((err: Error) => { out(`the running agent could not rescan folder ${target.folder.id} (${err.message}); it picks the change up on its next scan`); return null })
  if (scanned === undefined) out(`it syncs as a new change when the agent runs (\`aerie run\`)`)
  else if (scanned != null) out(`the agent has rescanned folder ${target.folder.id}; ${brakeAdvice(scanned) ?? 'the change syncs to its peers'}`)
}

/** What the team server keeps of the path, through the running agent (none, with why, when it cannot be asked). */
async function serverVersionsOf (home: DeviceHome, target: Target): Promise<{ versions: ServerVersion[], note?: string }> {
  try {
    const answer = await tryCallAgent<{ versions: ServerVersion[] }>(home, 'POST', '/v1/versions/server', { folder: target.folder.id, path: target.rel })
    return answer === undefined ? { versions: [], note: 'the agent is not running, so the team server was not asked (`aerie run`)' } : answer
  } catch (err) {
    return { versions: [], note: `the team server was not asked: ${(err as Error).message}` }
  }
}

function onDisk (target: Target): VersionTarget {
  return { root: target.folder.path, rel: target.rel, kind: target.kind }
}

/** Finds the synced folder holding `arg`, whether or not the file is still there. */
export async function locate (home: DeviceHome, arg: string): Promise<Target> {
  const disk = resolve(arg === '~' || arg.startsWith('~/') || arg.startsWith(`~${sep}`) ? join(homedir(), arg.slice(1)) : arg)
  const { folders } = await home.readConfig()
  // Lexically first; then with symlinks resolved (a cwd reached through a link, macOS's
  // /tmp). Not the last segment: that may be a symlink the folder syncs as a file.
  let match = innermost(folders.map(f => ({ folder: f, root: f.path })), disk)
  if (match == null) {
    const real = join(await realPathOf(dirname(disk)), basename(disk))
    const roots = await Promise.all(folders.map(async f => ({ folder: f, root: await realpath(f.path).catch(() => f.path) })))
    match = innermost(roots, real)
  }
  if (match == null) {
    const synced = folders.length === 0
      ? 'this device syncs no folders yet (add one with `aerie folder add PATH`)'
      : `this device syncs ${folders.map(f => `${f.path} (${f.id})`).join(', ')}`
    throw new InvalidInputError(`${disk} is not in a synced folder; ${synced}`)
  }
  const rel = match.rel.split(sep).join('/').normalize('NFC')
  const st = await lstat(disk).catch(() => undefined)
  if (rel.split('/')[0]!.toLowerCase() === VERSIONS_DIR) {
    // Its directories mirror the folder's; a version's own name is not a path there.
    const mirrored = rel.slice(VERSIONS_DIR.length + 1)
    const suggest = join(match.folder.path, st?.isDirectory() === true ? mirrored : dirname(mirrored))
    throw new InvalidInputError(`${disk} is inside the version history itself; give the path the file had in the folder, e.g. \`aerie versions ${shellArg(suggest)}\``)
  }
  const kind = rel === '' || st?.isDirectory() === true ? 'directory' : st == null ? 'missing' : 'file'
  return { folder: match.folder, rel, disk, kind }
}

/** The folder with the longest root that contains `path` (folders may nest). */
function innermost (roots: Array<{ folder: FolderConfig, root: string }>, path: string): { folder: FolderConfig, rel: string } | undefined {
  let best: { folder: FolderConfig, rel: string, length: number } | undefined
  for (const { folder, root } of roots) {
    const rel = relative(root, path)
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) continue
    if (best == null || root.length > best.length) best = { folder, rel, length: root.length }
  }
  return best
}

/** realpath, for a path whose tail may not exist (a deleted file or directory). */
async function realPathOf (path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    const parent = dirname(path)
    return parent === path ? path : join(await realPathOf(parent), basename(path))
  }
}

/**
 * TIME for `--at`. A time without fractions of a second covers its whole second, as the
 * listing shows whole seconds: the MODIFIED time of a row selects that row's version.
 */
export function parseTime (text: string, now = new Date()): Date {
  const t = text.trim()
  if (t.toLowerCase() === 'now') return now
  const ago = /^(\d+\s*[smhd])(?:\s+ago)?$/i.exec(t)
  if (ago != null) return new Date(now.getTime() - parseDuration(ago[1]!.toLowerCase()))
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(t)
  const tag = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-\d+)?$/.exec(t)
  const m = iso ?? tag
  if (m == null) throw new UsageError(`"${text}" is not a time; ${TIME_FORMS}`)
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map(i => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
  const fraction = iso?.[7]
  const ms = fraction == null ? 999 : Number(fraction.slice(0, 3).padEnd(3, '0'))
  const calendar = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  if (calendar.getUTCMonth() !== mo - 1 || calendar.getUTCDate() !== d || calendar.getUTCHours() !== h || calendar.getUTCMinutes() !== mi || calendar.getUTCSeconds() !== s) {
    throw new UsageError(`"${text}" is not a real date and time; ${TIME_FORMS}`)
  }
  const zone = tag != null ? 'Z' : iso?.[8]
  let at: Date
  if (zone == null) {
    at = new Date(y, mo - 1, d, h, mi, s, ms)
  } else {
    const offset = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)
    if (offset != null && (Number(offset[2]) > 23 || Number(offset[3] ?? 0) > 59)) throw new UsageError(`"${text}" has no such time zone offset; ${TIME_FORMS}`)
    const minutes = offset == null ? 0 : (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3] ?? 0))
    at = new Date(calendar.getTime() + ms - minutes * 60_000)
  }
  if (!(at.getUTCFullYear() >= 1970 && at.getUTCFullYear() <= 9999)) throw new UsageError(`"${text}" is not between 1970 and 9999; ${TIME_FORMS}`)
  return at
}


/** The path to type for a version listed under `arg`: the argument as given, extended. */
function pathFor (arg: string, rel: string, versionPath: string): string {
  if (versionPath === rel) return arg
  const below = rel === '' ? versionPath : versionPath.slice(rel.length + 1)
  return join(arg, ...below.split('/'))
}

function table (rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  return rows.map(r => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i]!)).join('  '))
}

/** Quoted for a POSIX shell when it needs to be, so a hint can be pasted. */
function shellArg (text: string): string {
  return /^[\w./~:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll('\'', '\'\\\'\'')}'`
}

/**
 * `aerie folder retention ID [--keep N] [--days D]`: how long the folder's version history keeps
 * replaced and deleted files; without flags, what it is now. A running agent applies a change at once.
 */
export async function folderRetention ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { keep: { type: 'string' }, days: { type: 'string' } }, { min: 1, max: 1, names: 'ID (see `aerie status`) and --keep N and/or --days D' })
  const id = positionals[0]!
  const number = (flag: 'keep' | 'days'): number | undefined => {
    const text = values[flag] as string | undefined
    if (text === undefined) return undefined
    if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} takes a whole number${flag === 'days' ? ' of days (0: however old)' : ' of versions per file'}, not "${text}"`)
    return Number(text)
  }
  const keepVersions = number('keep')
  const maxAgeDays = number('days')
  let folder: FolderConfig
  if (keepVersions === undefined && maxAgeDays === undefined) {
    folder = folderIn(await home.readConfig(), id)
  } else {
    folder = await setFolderRetention(home, id, { ...(keepVersions === undefined ? {} : { keepVersions }), ...(maxAgeDays === undefined ? {} : { maxAgeDays }) })
    await tryCallAgent(home, 'POST', '/v1/folders/reload')
  }
  out(`folder ${folder.id} keeps ${retentionInWords(folder, 'each replaced or deleted file')} ` +
    `(in ${join(folder.path, VERSIONS_DIR)}; change it with \`aerie folder retention ${folder.id} --keep N --days D\`)`)
}

/** "the newest 10 versions of WHAT, for 30 days": the folder's policy, the default for what it does not set. */
function retentionInWords (folder: FolderConfig, what: string): string {
  const { keepVersions, maxAgeDays } = { ...DEFAULT_RETENTION, ...folder.versions }
  return `the newest ${keepVersions} ${keepVersions === 1 ? 'version' : 'versions'} of ${what}, ` +
    (maxAgeDays === 0 ? 'however old' : `for ${maxAgeDays} ${maxAgeDays === 1 ? 'day' : 'days'}`)
}
