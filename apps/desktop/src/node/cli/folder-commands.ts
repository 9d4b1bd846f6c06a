import { resolve } from 'node:path'
import { brakeAdvice } from '@aerie/core/basics'
import { addFolder, FOLDER_ID, removeFolder, setFolderPaused } from '../folder-config.ts'
import { callAgent, tryCallAgent } from '../control-client.ts'
import { parse, UsageError } from './args.ts'
import type { FolderStatus, MembershipRecord } from '@aerie/core'
import type { CommandContext } from './main.ts'

/** `aerie folder add PATH`: sync a directory (it gets a marker file; nothing else changes). */
export async function folderAdd ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { id: { type: 'string' }, label: { type: 'string' } }, { min: 1, max: 1, names: 'PATH (a directory)' })
  const id = values.id as string | undefined
  if (id !== undefined && !FOLDER_ID.test(id)) throw new UsageError(`folder id "${id}" must be 1-64 lower-case letters, digits, '.', '_' or '-'`)
  const folder = await addFolder(home, { path: resolve(positionals[0]!), id, label: values.label as string | undefined })
  const running = await tryCallAgent(home, 'POST', '/v1/folders/reload')
  out(`added folder ${folder.id} at ${folder.path}${running == null ? '; it is scanned when the agent runs (`aerie run`)' : '; the agent is scanning it'}`)
}

/** `aerie folder remove ID`: stop syncing the folder. Deletes nothing on disk. */
export async function folderRemove ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'ID (see `aerie status`)' })
  const folder = await removeFolder(home, positionals[0]!)
  await tryCallAgent(home, 'POST', '/v1/folders/reload')
  out(`folder ${folder.id} is no longer synced; its files in ${folder.path} are untouched`)
}

/** A member named on the command line: a device (id, id prefix or name), or every device of `--user EMAIL`. */
function memberOf (positionals: string[], values: Record<string, unknown>): { deviceId: string } | { user: string } {
  const user = values.user as string | undefined
  if ((user === undefined) === (positionals[1] === undefined)) throw new UsageError('name a DEVICE or give --user EMAIL (every device of that user), not both')
  return user === undefined ? { deviceId: positionals[1]! } : { user }
}

/** `aerie folder share ID (DEVICE | --user EMAIL) [--role editor|viewer]`: the owner adds a member (signed, versioned). */
export async function folderShare ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { role: { type: 'string' }, user: { type: 'string' } }, { min: 1, max: 2, names: 'ID DEVICE (a folder id and a device id or name), or ID --user EMAIL' })
  const role = (values.role as string | undefined) ?? 'editor'
  if (role !== 'editor' && role !== 'viewer') throw new UsageError(`--role is editor or viewer, not "${role}"`)
  const member = memberOf(positionals, values)
  const record = await callAgent<MembershipRecord>(home, 'POST', '/v1/folders/share', { id: positionals[0], ...member, role })
  const whom = 'user' in member
    ? `every device of ${member.user}`
    : (record.members.find(m => m.deviceId.startsWith(member.deviceId.toLowerCase())) ?? record.members.at(-1))?.deviceId ?? member.deviceId
  out(`folder ${record.folder} is shared with ${whom} as ${role} (membership version ${record.version}); it syncs once a device adds it: \`aerie folder add PATH --id ${record.folder}\``)
}

/** `aerie folder unshare ID (DEVICE | --user EMAIL)`: the owner removes a member; it gets nothing more. */
export async function folderUnshare ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { user: { type: 'string' } }, { min: 1, max: 2, names: 'ID DEVICE (a folder id and a device id or name), or ID --user EMAIL' })
  const member = memberOf(positionals, values)
  const record = await callAgent<MembershipRecord>(home, 'POST', '/v1/folders/share', { id: positionals[0], ...member, role: 'remove' })
  out(`folder ${record.folder} is no longer shared with ${'user' in member ? `the devices of ${member.user}` : member.deviceId} (membership version ${record.version}); files already there stay`)
}

/** `aerie folder pause ID` / `resume ID`: stop and start scanning, watching and fetching a folder. */
export async function folderPause (ctx: CommandContext): Promise<void> { await setPaused(ctx, true) }
export async function folderResume (ctx: CommandContext): Promise<void> { await setPaused(ctx, false) }

async function setPaused ({ home, args, out }: CommandContext, paused: boolean): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'ID (see `aerie status`)' })
  const folder = await setFolderPaused(home, positionals[0]!, paused)
  const running = await tryCallAgent(home, 'POST', '/v1/folders/reload')
  out(paused
    ? `folder ${folder.id} is paused: nothing is scanned or fetched, and peers' changes wait, until \`aerie folder resume ${folder.id}\``
    : `folder ${folder.id} syncs again${running === undefined ? ' when the agent runs (`aerie run`)' : ': the agent is scanning it for what changed meanwhile'}`)
}

/** `aerie folder confirm ID`: the files the scanner misses really are gone; record it. */
export async function folderConfirm ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'ID (a folder waiting for confirmation)' })
  const status = await callAgent<FolderStatus>(home, 'POST', '/v1/folders/confirm', { id: positionals[0] })
  out(status.state === 'needs-confirmation'
    ? `folder ${status.id}: ${brakeAdvice(status) ?? 'still waiting'}`
    : `folder ${status.id}: deletions recorded; state ${status.state}`)
}

/** `aerie folder rescan ID`: scan now and say what the scan found. */
export async function folderRescan ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'ID (see `aerie status`)' })
  const status = await callAgent<FolderStatus>(home, 'POST', '/v1/folders/rescan', { id: positionals[0] })
  out(`folder ${status.id}: ${status.state}, ${status.files} items${status.brake != null ? `; ${brakeAdvice(status) ?? ''}` : ''}`)
}
