import { readFile } from 'node:fs/promises'
import { InvalidInputError } from '@aerie/core'
import { callAgent } from '../control-client.ts'
import { promptHidden } from '../passphrase.ts'
import { parse, parseDuration, UsageError } from './args.ts'
import { locate } from './version-commands.ts'
import { formatTime } from './progress-line.ts'
import type { DeviceShareRequest, DeviceShareResponse, ShareSummary } from '@aerie/core'
import type { DeviceHome } from '../device-home.ts'
import type { CommandContext } from './main.ts'

/**
 * `aerie share …`: public links to a file or directory of a synced folder, made by the team
 * server from its central copy for this device's user (`/aerie/share/1.0.0`, through the
 * running agent). The organisation's policy (longest lifetime, password required) is the
 * server's to enforce.
 */

const SIZE = /^(\d+)\s*([KMGT]?)i?B?$/i

async function ask (home: DeviceHome, request: DeviceShareRequest): Promise<DeviceShareResponse> {
  return await callAgent<DeviceShareResponse>(home, 'POST', '/v1/shares', { request })
}

/** `aerie share create PATH --expires 7d [--password] [--max-downloads N] [--upload-only [--max-upload SIZE]] [--snapshot]` */
export async function shareCreate ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, {
    expires: { type: 'string', default: '7d' },
    password: { type: 'boolean' },
    'password-file': { type: 'string' },
    'max-downloads': { type: 'string' },
    'upload-only': { type: 'boolean' },
    'max-upload': { type: 'string' },
    snapshot: { type: 'boolean' },
    json: { type: 'boolean' }
  }, { min: 1, max: 1, names: 'PATH (a file or directory in a synced folder)' })
  const target = await locate(home, positionals[0]!)
  if (target.kind === 'missing') throw new InvalidInputError(`${target.disk} does not exist; share a file or directory that is there`)
  const request: DeviceShareRequest = { type: 'create', folder: target.folder.id, path: target.rel, expiresIn: Math.ceil(parseDuration(values.expires as string) / 1000) }
  const password = await linkPassword(values.password === true, values['password-file'] as string | undefined)
  if (password !== undefined) request.password = password
  if (values['max-downloads'] !== undefined) request.maxDownloads = wholeNumber(values['max-downloads'] as string, '--max-downloads')
  if (values['upload-only'] === true) request.uploadOnly = true
  if (values['max-upload'] !== undefined) request.maxUploadBytes = size(values['max-upload'] as string)
  if (values.snapshot === true) request.snapshot = true
  const answer = await ask(home, request)
  if (answer.type !== 'created') throw new InvalidInputError('the team server did not make a link')
  if (values.json === true) { out(JSON.stringify(answer)); return }
  out(`${answer.link.uploadOnly ? 'file drop into' : 'link to'} ${target.rel === '' ? `folder ${target.folder.id}` : `"${target.rel}"`}, ${describe(answer.link)} (id ${answer.link.id}):`)
  // The URL alone on the last line, for scripts: it is shown once and stored nowhere.
  out(answer.url)
}

/** `aerie share list [--json]`: this user's links, with their state and downloads. */
export async function shareList ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const answer = await ask(home, { type: 'list' })
  const links = answer.type === 'links' ? answer.links : []
  if (values.json === true) { out(JSON.stringify(links)); return }
  if (links.length === 0) { out('you have no share links (`aerie share create PATH` makes one)'); return }
  for (const link of links) out(`${link.id}  ${link.state.padEnd(9)} ${`${link.folder}/${link.path}`.padEnd(32)} ${describe(link)}`)
}

/** `aerie share revoke ID`: the link stops working at once (410 for whoever opens it). */
export async function shareRevoke ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 1, max: 1, names: 'ID (see `aerie share list`)' })
  await ask(home, { type: 'revoke', id: positionals[0]! })
  out(`link ${positionals[0]!} is revoked: opening it now shows that it is gone`)
}

function describe (link: ShareSummary): string {
  const downloads = link.maxDownloads === undefined ? `${link.downloads} downloads` : `${link.downloads} of ${link.maxDownloads} downloads`
  return `expires ${formatTime(new Date(link.expiresAt))}, ${link.hasPassword ? 'password' : 'no password'}, ${link.uploadOnly ? 'upload only' : downloads}`
}

async function linkPassword (asked: boolean, file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
  if (!asked) return undefined
  const fromEnv = process.env.AERIE_SHARE_PASSWORD
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  if (!process.stdin.isTTY) throw new UsageError('--password asks at the terminal; without one, give AERIE_SHARE_PASSWORD or --password-file FILE')
  const first = await promptHidden('Link password: ')
  if (first !== await promptHidden('Repeat it: ')) throw new InvalidInputError('the two passwords differ; run the command again')
  return first
}

function wholeNumber (text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} takes a whole number from 1, not "${text}"`)
  return Number(text)
}

function size (text: string): number {
  const match = SIZE.exec(text.trim())
  if (match === null) throw new UsageError(`--max-upload takes a size such as 500M or 2G, not "${text}"`)
  const bytes = Number(match[1]) * 1024 ** ' KMGT'.indexOf((match[2] ?? '').toUpperCase() || ' ')
  if (bytes < 1) throw new UsageError('--max-upload must be at least 1 byte')
  return bytes
}

