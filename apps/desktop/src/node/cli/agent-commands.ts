import { AGENT_V8_FLAGS, brakeAdvice, formatBytes, NotConfiguredError, restartWithV8Flags } from '@aerie/core/basics'
import { callAgent, tryCallAgent } from '../control-client.ts'
import { readUiSecret, uiLink } from '../ui/ui-secret.ts'
import { parse, UsageError } from './args.ts'
import { progressLine } from './progress-line.ts'
import type { AgentStatus } from '../agent.ts'
import type { CommandContext } from './main.ts'

/** `aerie run`: the agent in the foreground until Ctrl-C / SIGTERM. */
export async function run ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { listen: { type: 'string', multiple: true }, 'no-mdns': { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  restartWithV8Flags(AGENT_V8_FLAGS)
  // The engine, loaded here rather than at the top: the other commands of this module only ask the agent.
  const { Agent } = await import('../agent.ts')
  const { caPassphrase } = await import('../passphrase.ts')
  const progress = progressLine(process.stderr)
  const log = (line: string): void => { progress.clear(); out(`${new Date().toISOString()} ${line}`) }
  let requestStop = (): void => {}
  let uiPort: number | undefined
  if (!await home.isEnrolled()) {
    uiPort = await enrollFirst(home, values.listen as string[] | undefined, log)
    if (uiPort === undefined) return
  }
  const passphrase = await home.isCaHolder() ? await caPassphrase({ required: false }) : undefined
  const agent = await Agent.start({
    home,
    uiPort,
    listen: values.listen as string[] | undefined,
    mdns: values['no-mdns'] === true ? false : undefined,
    caPassphrase: passphrase,
    log,
    onProgress: (p) => { progress.show(p) },
    onStopRequested: () => { requestStop() }
  })
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      out(`${new Date().toISOString()} stopping`)
      agent.stop().finally(resolve)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    requestStop = stop
  })
}

/**
 * Not enrolled: serve only the UI's Enroll screen until a code is accepted (then the UI's port,
 * for the agent to keep), or until Ctrl-C / `aerie stop` (then undefined).
 */
async function enrollFirst (home: CommandContext['home'], listen: string[] | undefined, log: (line: string) => void): Promise<number | undefined> {
  const { startEnrollUi } = await import('../ui/enroll-ui.ts')
  const { enrollDevice } = await import('./enroll-command.ts')
  const waiting = await startEnrollUi({
    home,
    log,
    enroll: async (code, name) => (await enrollDevice(home, { code, name, listen })).identity
  })
  const stop = (): void => { waiting.stop() }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const enrolled = await waiting.done
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
  await waiting.close()
  return enrolled ? waiting.port : undefined
}

/** `aerie stop`: ask the running agent to stop (as Ctrl-C does), and wait until it has. */
export async function stopAgent ({ home, args, out }: CommandContext): Promise<void> {
  parse(args, {}, { min: 0, max: 0, names: '' })
  const answered = await tryCallAgent(home, 'POST', '/v1/stop')
  if (answered === undefined) { out('no agent is running'); return }
  for (let i = 0; i < 100 && await tryCallAgent(home, 'GET', '/v1/status').catch(() => undefined) !== undefined; i++) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  out('the agent has stopped')
}

/** `aerie status`: what the running agent says about itself and its peers. */
export async function status ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const s = await callAgent<AgentStatus>(home, 'GET', '/v1/status')
  if (values.json === true) { out(JSON.stringify(s, null, 2)); return }
  out(`${s.deviceName} (${s.deviceId}) for ${s.user}${s.caHolder ? ', CA holder' + (s.enrollmentOpen ? '' : ' (enrollment locked)') : ''}`)
  if (s.revoked) out('REVOKED: this device has been revoked by the organisation and cannot connect')
  out(`listening on ${s.addresses.join(', ') || 'nothing'}`)
  for (const f of s.folders) {
    const sync = f.inSync ? 'in sync' : f.needFiles > 0 ? `needs ${f.needFiles} items (${formatBytes(f.needBytes)})` : 'catching up'
    out(`folder ${f.id} (${f.label}) ${f.state}${f.brake != null ? ` (${f.brake})` : ''}: ${f.files} items in ${f.path}, ${sync}${f.error != null ? ` - ${f.error}` : ''}`)
    const advice = brakeAdvice(f)
    if (advice != null) out(`  ${advice}`)
    for (const problem of f.pullProblems.slice(0, 5)) out(`  cannot sync ${problem.path}: ${problem.message}`)
    if (f.nextRetryAt != null) out(`  tried again in ${Math.max(0, Math.round((Date.parse(f.nextRetryAt) - Date.now()) / 1000))} s (or as soon as a member has news)`)
  }
  for (const offer of s.offers) {
    out(`folder ${offer.folder} ("${offer.label}") offered by ${offer.from} as ${offer.role}: accept with \`aerie folder add PATH --id ${offer.folder}\``)
  }
  if (s.peers.length === 0) out('no peers yet: `aerie peer add DEVICE ADDR`, or wait for LAN discovery')
  for (const p of s.peers) {
    out(`  ${p.connected ? 'connected   ' : 'disconnected'} ${p.deviceName} (${p.deviceId}, ${p.user})${p.address != null ? ' at ' + p.address : ''}, in ${formatBytes(p.bytesIn)}, out ${formatBytes(p.bytesOut)}`)
  }
}

/** `aerie ui`: the link that opens the running agent's UI in a browser (it carries the UI secret). */
export async function ui ({ home, args, out }: CommandContext): Promise<void> {
  parse(args, {}, { min: 0, max: 0, names: '' })
  const { url } = await callAgent<{ url: string }>(home, 'GET', '/v1/ui')
  const secret = await readUiSecret(home)
  if (secret === undefined) throw new NotConfiguredError(`${home.path('ui-secret')} is missing or too short; restart the agent, which makes a new one`)
  out(uiLink(url, secret))
}

/** `aerie id`: who this device is and where it can be reached. */
export async function id ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  const { dialableAddresses, readDeviceCertificate } = await import('@aerie/core')
  const identity = readDeviceCertificate(await home.read('device.crt'))
  const running = await tryCallAgent<AgentStatus>(home, 'GET', '/v1/status')
  const addresses = running?.addresses ?? dialableAddresses((await home.readConfig()).listen)
  if (values.json === true) {
    out(JSON.stringify({ deviceId: identity.deviceId, peerId: identity.peerId, addresses }))
    return
  }
  out(`device  ${identity.deviceId}  ${identity.deviceName} (${identity.user})`)
  out(`peer    ${identity.peerId}`)
  for (const address of addresses) out(`address ${address}`)
}

/** `aerie peer add DEVICE ADDR`: a fixed address to keep connected (besides LAN discovery). */
export async function peerAdd ({ home, args, out }: CommandContext): Promise<void> {
  const { positionals } = parse(args, {}, { min: 2, max: 2, names: 'DEVICE ADDR (e.g. abcd1234 /ip4/192.168.1.20/tcp/4001)' })
  const [deviceId, address] = positionals as [string, string]
  if (!/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d+/.test(address)) throw new UsageError(`"${address}" is not an address like /ip4/192.168.1.20/tcp/4001`)
  const config = await home.readConfig()
  config.peers = [...config.peers.filter(p => p.address !== address), { deviceId, address }]
  await home.writeConfig(config)
  const dialled = await tryCallAgent<{ deviceId: string, deviceName: string }>(home, 'POST', '/v1/peers/dial', { address })
    .catch((err: Error) => { out(`saved, but could not connect now: ${err.message}`); return null })
  if (dialled === undefined) out(`saved ${deviceId} at ${address}; the agent connects when it runs`)
  else if (dialled != null) {
    out(`connected to ${dialled.deviceName} (${dialled.deviceId}) at ${address}`)
    if (!dialled.deviceId.startsWith(deviceId) && dialled.deviceName !== deviceId) {
      out(`note: you named it "${deviceId}", but the device at that address is ${dialled.deviceName} (${dialled.deviceId})`)
    }
  }
}

