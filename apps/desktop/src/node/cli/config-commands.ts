import { formatBytes, parseRate } from '@aerie/core/basics'
import { settingsOf, withSettings } from '../device-settings.ts'
import { tryCallAgent } from '../control-client.ts'
import { parse, UsageError } from './args.ts'
import type { DeviceSettings } from '../device-settings.ts'
import type { CommandContext } from './main.ts'

/**
 * `aerie config …`: the device's settings (config.json). A running agent saves and applies
 * them at once; otherwise config.json is written and the next `aerie run` reads it.
 */
async function change ({ home, out }: CommandContext, patch: Partial<DeviceSettings>): Promise<DeviceSettings> {
  const running = await tryCallAgent<DeviceSettings>(home, 'POST', '/v1/settings', patch)
  if (running !== undefined) return running
  const config = withSettings(await home.readConfig(), patch)
  await home.writeConfig(config)
  out('saved; the agent uses it when it runs (`aerie run`)')
  return settingsOf(config)
}

function describe (s: DeviceSettings): string[] {
  const rate = (n: number): string => n === 0 ? 'no limit' : `${formatBytes(n)}/s`
  return [
    `name            ${s.deviceName}`,
    `lan-only        ${s.lanOnly ? 'on (no connections outside the local network; a team server on a public address is out of reach)' : 'off'}`,
    `upload-limit    ${rate(s.uploadLimit)}`,
    `download-limit  ${rate(s.downloadLimit)}`,
    `min-free        ${s.minDiskFree}% of each disk kept free (a file that would take it waits)`
  ]
}

/** `aerie config`: the settings as they are. */
export async function configShow ({ home, args, out }: CommandContext): Promise<void> {
  parse(args, {}, { min: 0, max: 0, names: '' })
  const running = await tryCallAgent<{ settings: DeviceSettings }>(home, 'GET', '/v1/status')
  for (const line of describe(running?.settings ?? settingsOf(await home.readConfig()))) out(line)
}

/** `aerie config lan-only on|off`. */
export async function configLanOnly (ctx: CommandContext): Promise<void> {
  const { positionals } = parse(ctx.args, {}, { min: 1, max: 1, names: 'on|off' })
  if (positionals[0] !== 'on' && positionals[0] !== 'off') throw new UsageError('say `aerie config lan-only on` or `aerie config lan-only off`')
  const s = await change(ctx, { lanOnly: positionals[0] === 'on' })
  ctx.out(describe(s)[1]!)
}

/** `aerie config upload-limit RATE` / `download-limit RATE`: chunk traffic to / from peers. */
export function configLimit (key: 'uploadLimit' | 'downloadLimit'): (ctx: CommandContext) => Promise<void> {
  return async (ctx) => {
    const { positionals } = parse(ctx.args, {}, { min: 1, max: 1, names: 'RATE (bytes per second, e.g. 500K or 2M, or off)' })
    const s = await change(ctx, { [key]: parseRate(positionals[0]!) })
    ctx.out(describe(s)[key === 'uploadLimit' ? 2 : 3]!)
  }
}

/** `aerie config min-free PERCENT`: the share of each disk a pull keeps free. */
export async function configMinFree (ctx: CommandContext): Promise<void> {
  const { positionals } = parse(ctx.args, {}, { min: 1, max: 1, names: 'PERCENT (of each disk, e.g. 1 or 5%)' })
  const text = positionals[0]!.trim().replace(/%$/, '')
  const percent = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
  if (Number.isNaN(percent)) throw new UsageError(`"${positionals[0]!}" is not a share of the disk: give a percentage, e.g. 1 or 5%`)
  const s = await change(ctx, { minDiskFree: percent })
  ctx.out(describe(s)[4]!)
}

/** `aerie config name NAME`: what this agent calls itself; the certificate keeps the enrolled name. */
export async function configName (ctx: CommandContext): Promise<void> {
  const { positionals } = parse(ctx.args, {}, { min: 1, max: 1, names: 'NAME' })
  const s = await change(ctx, { deviceName: positionals[0] })
  ctx.out(`${describe(s)[0]!} (the certificate, which peers see, keeps the name the device enrolled with)`)
}
