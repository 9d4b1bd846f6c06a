import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { AerieError, changePassphrase, DiskRoom, InvalidInputError, NotConfiguredError, parseDuration, rebuildPackIndex, setLocked, unlockWithPassphrase } from '@aerie/core'
import { CONFIG_FLAGS, loadConfig } from './config.ts'
import type { ServerConfig } from './config.ts'
import { issueEnrollmentCode, listDevices } from './enrollment-codes.ts'
import { keyState, openDataKey, openServerIdentity, serverPaths, storedWebCertificate } from './server-identity.ts'
import { publishState, STATE_FILE, TeamServer } from './team-server.ts'
import { listenUrl, waitForUnlock } from './unlock-gate.ts'
import { createAuditLog } from './audit/audit-log.ts'
import { openServerMetadata } from './metadata/server-db.ts'
import { buildWebApp } from './web/app.ts'
import { deviceShares } from './device-shares.ts'
import { createShareLinks } from './share/share-links.ts'
import { backupService } from './backup/backup-service.ts'
import { backupAdmin, backupMaintenance } from './backup/backup-admin.ts'
import { formatScrubReport, runScrub, scrubProgressLine } from './backup/scrub.ts'
import type { ScrubProgress } from './backup/scrub.ts'
import { callControl, serveControl, ServerNotRunningError } from './control-socket.ts'
import type { ScrubReport } from './metadata/stores.ts'
import { collectGarbage, formatGcReport } from './backup/chunk-gc.ts'
import type { GcReport } from './backup/chunk-gc.ts'
import type { ServerState } from './team-server.ts'

export const USAGE = `usage: aerie-server [COMMAND] [--data DIR] [options]

  start (default)          run the team server: HTTPS console on --port (8443), libp2p peer on --p2p-listen
    --data DIR             where everything lives (AERIE_DATA; default ~/.aerie-server)
    --config FILE          settings file (default DATA/server.json); environment AERIE_* and flags override it
    --org NAME             the organisation's name, for the CA made on the first run
    --host ADDR --port N   where the console listens (default 0.0.0.0:8443)
    --http                 plain HTTP, only with --host 127.0.0.1
    --p2p-listen ADDR      libp2p listen address (default /ip4/0.0.0.0/tcp/4401)
    --tls-cert F --tls-key F   serve a given certificate instead of one from the org CA
    --trust-proxy          honour X-Forwarded-* from a reverse proxy
    --locked               never keep the data key unwrapped on disk: every start needs the passphrase
    --passphrase-file F    the admin passphrase (or AERIE_PASSPHRASE)
    --gc-grace 24h         how long a chunk stored or used stays safe from garbage collection
    --scrub-rate 64M       how fast the daily scrub reads the store (bytes/s; off: no limit); a scrub asked for now runs at full speed
  invite --user EMAIL [--device-name DEVICE] [--expires 24h]   a one-time enrollment code for a new device
  devices                  every device the CA certified
  passphrase change        rewrap the data key under a new admin passphrase (AERIE_PASSPHRASE → AERIE_NEW_PASSPHRASE)
  scrub [--now] [--json]   the last scrub's report (the server scrubs daily); --now: the running server scrubs now, with progress: exit 1 when it found damage
  gc --now [--json]        the running server frees the chunks no snapshot or central-copy file needs (it does daily), and says how much
  store rebuild-index      rebuild the chunk store's index from its packs, the server stopped (the old index is kept): exit 1 when damage was found
  audit verify             check the audit log's hash chain: exit 1 and name the first edited, deleted or reordered entry
  locked on|off            locked mode: no key on disk, every start waits for the passphrase (needs AERIE_PASSPHRASE)`

const HOUR_MS = 3_600_000

/** Runs one command and returns the exit code (0 ok, 1 failed, 2 wrong usage). */
export async function main (argv: string[]): Promise<number> {
  const command = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : 'start'
  const args = command === argv[0] ? argv.slice(1) : argv
  try {
    switch (command) {
      case 'start': return await start(args)
      case 'invite': return await invite(args)
      case 'devices': return await devices(args)
      case 'passphrase': {
        if (args[0] !== 'change') throw new InvalidInputError('say `aerie-server passphrase change`')
        return await changeAdminPassphrase(args.slice(1))
      }
      case 'locked': return await lockedMode(args)
      case 'audit': {
        if (args[0] !== 'verify') throw new InvalidInputError('say `aerie-server audit verify`')
        return await verifyAudit(args.slice(1))
      }
      case 'scrub': return await printScrub(args)
      case 'gc': return await collectNow(args)
      case 'store': {
        if (args[0] !== 'rebuild-index') throw new InvalidInputError('say `aerie-server store rebuild-index`')
        return await rebuildStoreIndex(args.slice(1))
      }
      case 'help': process.stdout.write(USAGE + '\n'); return 0
      default: process.stderr.write(`aerie-server: unknown command "${command}"\n\n${USAGE}\n`); return 2
    }
  } catch (err) {
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`aerie-server: ${err.message}\n\n${USAGE}\n`)
      return 2
    }
    process.stderr.write(`aerie-server: ${err instanceof AerieError ? err.message : (err as Error).stack ?? String(err)}\n`)
    return 1
  }
}

function parse (args: string[], extra: Record<string, { type: 'string' | 'boolean', multiple?: boolean }> = {}): Record<string, string | boolean | string[] | undefined> {
  return parseArgs({ args, options: { ...CONFIG_FLAGS, config: { type: 'string' }, 'passphrase-file': { type: 'string' }, ...extra }, strict: true }).values
}

async function passphrase (file: unknown): Promise<string | undefined> {
  if (typeof file === 'string') return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
  const fromEnv = process.env.AERIE_PASSPHRASE
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv
}

async function start (args: string[]): Promise<number> {
  const flags = parse(args)
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  const log = (line: string): void => { process.stdout.write(`${new Date().toISOString()} ${line}\n`) }
  let given = await passphrase(flags['passphrase-file'])
  let unlockedBy: string | undefined
  if (await keyState(config) === 'locked' && given === undefined) {
    // Locked mode: nothing is opened until an admin gives the passphrase in the browser.
    const { remoteAddress } = await waitForUnlock({
      host: config.host,
      port: config.port,
      ...(config.http ? {} : { https: await storedWebCertificate(config) }),
      trustProxy: config.trustProxy,
      unlock: async (candidate) => {
        await unlockWithPassphrase(serverPaths(config.dataDir).keys, candidate)
        given = candidate
      },
      onListening: async (url) => { await publishState(config.dataDir, { pid: process.pid, locked: true, webUrl: url }) },
      log
    })
    unlockedBy = remoteAddress
  }
  const identity = await openServerIdentity(config, given)
  if (identity.recoveryPassphrase !== undefined) {
    log('first run: created the organisation\'s CA and the data key.')
    log(`RECOVERY PASSPHRASE (shown once; keep it somewhere safe — it opens the data if keys/local-secret is lost): ${identity.recoveryPassphrase}`)
  }
  const metadata = openServerMetadata(join(config.dataDir, 'server.db'))
  const audit = createAuditLog(metadata.audit)
  let server: TeamServer | undefined
  let web: Awaited<ReturnType<typeof buildWebApp>> | undefined
  try {
    server = await TeamServer.start({ config, identity, log, audit: (event) => { audit.record(event) } })
    web = await buildWebApp({
      api: server,
      metadata,
      audit,
      setupToken: identity.setupToken,
      secureCookies: !config.http,
      trustProxy: config.trustProxy,
      ...(config.http ? {} : { https: { key: identity.web.keyPem, cert: identity.web.certPem } }),
      log
    })
    await web.listen({ host: config.host, port: config.port })
  } catch (err) {
    // A server that cannot start must not linger half-started (its libp2p peer would keep the process alive).
    await web?.close().catch(() => {})
    await server?.stop().catch(() => {})
    metadata.close()
    throw listenProblem(err, config)
  }
  if (unlockedBy !== undefined) audit.record({ actor: 'admin passphrase', action: 'server.unlocked', address: unlockedBy })
  const url = config.publicUrl ?? listenUrl(web, { host: config.host, https: !config.http })
  await server.serveDeviceShares(deviceShares({
    shares: createShareLinks({ api: server, store: metadata.shares }),
    accounts: metadata.accounts,
    audit,
    roleOf: (folder, device) => server.roleOf(folder, device),
    publicUrl: () => url
  }))
  const backups = backupAdmin({
    snapshots: metadata.backups,
    audit,
    log,
    store: server.chunkStore(),
    scrubRate: config.scrubRate,
    // The room as the store's own reserve counts it (its default share).
    disk: async () => await new DiskRoom({ path: serverPaths(config.dataDir).store }).space(),
    fullSince: () => service.storeFullSince(),
    scrub: async (onProgress, pace) => {
      const report = await runScrub({ store: server.chunkStore(), snapshots: metadata.backups, centralFiles: () => server.centralFileChunks() }, { onProgress, pace })
      // Snapshots heal when their devices back up again; the central copy asks its members now.
      if (report.centralFiles.length > 0) void server.repairCentralCopy(report.centralFiles).catch((err: Error) => { log(`central copy repair failed: ${err.message}`) })
      return report
    },
    collect: async () => await collectGarbage({
      store: server.chunkStore(),
      snapshots: metadata.backups,
      centralFiles: () => server.centralFileChunks(),
      openRoots: () => service.openRoots(),
      onSwept: () => { service.forgetChecked() },
      graceMs: config.gcGrace
    })
  })
  const service = await server.serveBackups(store => backupService({ store, snapshots: metadata.backups, audit, log, lastScrub: () => backups.lastScrub(), onSnapshot: s => { backups.applyRetention({ deviceId: s.deviceId }) } }))
  // Only now may the admin API reach it: a collection asks the service what backups have open.
  server.backup = backups
  const maintenance = backupMaintenance(backups, { retentionMs: HOUR_MS, gcMs: 24 * HOUR_MS, scrubMs: 24 * HOUR_MS, log })
  const control = await serveControl(config.dataDir, {
    scrub: async (report) => {
      audit.record({ actor: 'local operator (aerie-server scrub --now)', action: 'backup.scrub_requested', target: 'store' })
      return await backups.scrub(report)
    },
    gc: async () => {
      audit.record({ actor: 'local operator (aerie-server gc --now)', action: 'backup.gc_requested', target: 'store' })
      return await backups.collectGarbage()
    }
  }, log)
  await server.publishState(url)
  log(`console at ${url}`)
  if (metadata.accounts.countAdmins() === 0) log(`set up the first admin account at ${url}/setup?token=${identity.setupToken}`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    log('stopping')
    maintenance.stop()
    control.close()
      .then(async () => { await web.close() })
      .then(async () => { await server.stop() })
      .finally(() => { metadata.close() })
      .then(() => { process.exit(0) }, (err: Error) => { log(`stop failed: ${err.message}`); process.exit(1) })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await new Promise(() => {})
  return 0
}

/** `passphrase change`: rewraps the data key under a new admin passphrase (no data is re-encrypted). */
async function changeAdminPassphrase (args: string[]): Promise<number> {
  const flags = parse(args, { 'new-passphrase-file': { type: 'string' } })
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  const old = await passphrase(flags['passphrase-file'])
  const next = typeof flags['new-passphrase-file'] === 'string'
    ? (await readFile(flags['new-passphrase-file'], 'utf8')).replace(/\r?\n$/, '')
    : process.env.AERIE_NEW_PASSPHRASE
  if (old === undefined || next === undefined || next === '') {
    throw new InvalidInputError('passphrase change needs the current passphrase (AERIE_PASSPHRASE or --passphrase-file) and the new one (AERIE_NEW_PASSPHRASE or --new-passphrase-file)')
  }
  await changePassphrase(serverPaths(config.dataDir).keys, old, next)
  process.stdout.write('the admin passphrase is changed; the old one no longer opens the data\n')
  return 0
}

/** `locked on|off`: whether the data key may stay on this machine for unattended restarts. */
async function lockedMode (args: string[]): Promise<number> {
  const parsed = parseArgs({ args, options: { ...CONFIG_FLAGS, config: { type: 'string' }, 'passphrase-file': { type: 'string' } }, strict: true, allowPositionals: true })
  const mode = parsed.positionals[0]
  if (mode !== 'on' && mode !== 'off') throw new InvalidInputError('say `aerie-server locked on` or `aerie-server locked off`')
  const config = loadConfig(parsed.values, process.env, parsed.values.config as string | undefined)
  const given = await passphrase(parsed.values['passphrase-file'])
  if (given === undefined) throw new InvalidInputError('changing the mode needs the admin passphrase (AERIE_PASSPHRASE or --passphrase-file)')
  await setLocked(serverPaths(config.dataDir).keys, given, mode === 'on')
  process.stdout.write(mode === 'on'
    ? 'locked mode is on: the local secret is gone, and every start waits for the admin passphrase\n'
    : 'locked mode is off: the server restarts unattended\n')
  return 0
}

async function runningState (dataDir: string): Promise<ServerState> {
  try {
    return JSON.parse(await readFile(join(dataDir, STATE_FILE), 'utf8')) as ServerState
  } catch {
    throw new NotConfiguredError(`no running team server found in ${dataDir}: start it with \`aerie-server start --data ${dataDir}\``)
  }
}

async function invite (args: string[]): Promise<number> {
  const flags = parse(args, { user: { type: 'string' }, 'device-name': { type: 'string' }, expires: { type: 'string' } })
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  if (typeof flags.user !== 'string') throw new InvalidInputError('invite needs --user EMAIL (the person the new device belongs to)')
  const ttlMs = parseDuration(typeof flags.expires === 'string' ? flags.expires : '24h')
  const state = await runningState(config.dataDir)
  if (state.p2pAddresses === undefined) throw new NotConfiguredError('the team server is locked: unlock it first (its console asks for the admin passphrase)')
  const issued = await issueEnrollmentCode(config.dataDir, { user: flags.user, ...(typeof flags['device-name'] === 'string' ? { deviceName: flags['device-name'] } : {}), ttlMs, addresses: state.p2pAddresses })
  process.stdout.write(`${issued.code}\n`)
  return 0
}

async function devices (args: string[]): Promise<number> {
  const flags = parse(args)
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  for (const d of listDevices(config.dataDir)) {
    process.stdout.write(`${d.deviceId}  ${d.deviceName.padEnd(20)} ${d.user.padEnd(28)} ${d.revokedAt != null ? `REVOKED ${new Date(d.revokedAt).toISOString()}` : 'active'}\n`)
  }
  return 0
}

/** `audit verify`: walks the hash chain (works beside a running server: the database is shared safely). */
async function verifyAudit (args: string[]): Promise<number> {
  const flags = parse(args, { json: { type: 'boolean' } })
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  const metadata = openServerMetadata(join(config.dataDir, 'server.db'))
  try {
    const result = createAuditLog(metadata.audit).verify()
    if (flags.json === true) process.stdout.write(JSON.stringify(result) + '\n')
    else if (result.ok) process.stdout.write(`audit log intact: ${result.entries} entries, head ${result.head.seq} ${result.head.hash}\n`)
    else process.stdout.write(`AUDIT LOG DAMAGED at entry ${result.firstBroken.seq}: ${result.firstBroken.reason} (${result.entries} entries before it verify)\n`)
    return result.ok ? 0 : 1
  } finally {
    metadata.close()
  }
}

/**
 * `scrub`: the last report the running server recorded (the store is held by that server, so it
 * reads server.db, shared safely); with `--now`, the running server scrubs first (over its local
 * control socket) while this shows how far it is.
 */
async function printScrub (args: string[]): Promise<number> {
  const flags = parse(args, { json: { type: 'boolean' }, now: { type: 'boolean' } })
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  let report: ScrubReport | undefined
  if (flags.now === true) {
    report = await scrubNow(config.dataDir)
  } else {
    const metadata = openServerMetadata(join(config.dataDir, 'server.db'))
    try { report = metadata.backups.lastScrub() } finally { metadata.close() }
  }
  if (report === undefined) {
    process.stdout.write('no scrub has run yet: the server runs one a day; `aerie-server scrub --now` runs one now\n')
    return 0
  }
  process.stdout.write(flags.json === true ? JSON.stringify(report) + '\n' : formatScrubReport(report) + '\n')
  return report.damaged.length > 0 || report.error !== undefined ? 1 : 0
}

/** Asks the running server to scrub now (or joins its running scrub), a progress line on stderr each second. */
async function scrubNow (dataDir: string): Promise<ScrubReport> {
  let shownAt = 0
  let phase: ScrubProgress['phase'] | undefined
  return await callServer<ScrubReport>(dataDir, 'scrub', (value) => {
    const progress = value as ScrubProgress
    if (progress.phase === phase && Date.now() - shownAt < 1000) return
    phase = progress.phase
    shownAt = Date.now()
    process.stderr.write(scrubProgressLine(progress, new Date()) + '\n')
  })
}

/** A command to the running server (callControl); a locked one, which serves nothing yet, is named as such. */
async function callServer<T> (dataDir: string, command: string, onProgress?: (progress: unknown) => void): Promise<T> {
  try {
    return await callControl<T>(dataDir, command, onProgress)
  } catch (err) {
    if (!(err instanceof ServerNotRunningError)) throw err
    const state = await runningState(dataDir).catch(() => undefined)
    if (state?.locked === true) throw new NotConfiguredError(`the team server is locked: unlock it first (its console asks for the admin passphrase), then run \`aerie-server ${command} --now\` again`)
    throw err
  }
}

/** `gc --now`: the running server frees the chunks nothing needs any more (its daily garbage collection, now). */
async function collectNow (args: string[]): Promise<number> {
  const flags = parse(args, { json: { type: 'boolean' }, now: { type: 'boolean' } })
  if (flags.now !== true) throw new InvalidInputError('say `aerie-server gc --now`: the server collects daily; this runs one now (the console\'s Space panel shows the last)')
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  process.stderr.write('gc: finding what snapshots and the central copy still need, then freeing the rest…\n')
  const report = await callServer<GcReport>(config.dataDir, 'gc')
  process.stdout.write(flags.json === true ? JSON.stringify(report) + '\n' : formatGcReport(report) + '\n')
  return 0
}

/**
 * `store rebuild-index`: the chunk store's index made again from its packs (rebuildPackIndex),
 * for an index that is lost or damaged. Offline: the store refuses it while the server runs.
 */
async function rebuildStoreIndex (args: string[]): Promise<number> {
  const flags = parse(args)
  const config = loadConfig(flags, process.env, flags.config as string | undefined)
  const dataKey = await openDataKey(config, await passphrase(flags['passphrase-file']))
  const dir = serverPaths(config.dataDir).store
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`
  let shownAt = 0
  const report = await rebuildPackIndex({
    dir,
    dataKey,
    onProgress: ({ packs, totalPacks, bytes, totalBytes }) => {
      if (Date.now() - shownAt < 1000 && packs < totalPacks) return
      shownAt = Date.now()
      process.stderr.write(`reading packs: ${packs}/${totalPacks}, ${mib(bytes)} of ${mib(totalBytes)}\n`)
    }
  })
  const lines = [`rebuilt the chunk store index of ${dir} from ${report.packs} ${report.packs === 1 ? 'pack' : 'packs'}: ${report.chunks} chunks, ${mib(report.bytes)}`]
  if (report.replaced !== undefined) lines.push(`  the index it replaces is kept as ${report.replaced}`)
  if (report.duplicates > 0) lines.push(`  ${report.duplicates} further copies of indexed chunks are left for the next compaction`)
  if (report.tails > 0) lines.push(`  ${report.tails} ${report.tails === 1 ? 'pack ends' : 'packs end'} in an unfinished write (a crash before it was indexed): not part of the store`)
  for (const d of report.damaged) lines.push(`  DAMAGED ${d.pack} at ${d.at}: ${d.bytes} bytes do not authenticate; the chunks in them are not indexed`)
  for (const label of report.unreadable) lines.push(`  UNREADABLE ${label}: no chunk in it authenticates; left in place, not indexed`)
  const damaged = report.damaged.length > 0 || report.unreadable.length > 0
  if (damaged) lines.push('  the chunks lost to damage are missing now: the next scrub names the snapshots and files that need them, and a device that still has them sends them again')
  process.stdout.write(lines.join('\n') + '\n')
  const metadata = openServerMetadata(join(config.dataDir, 'server.db'))
  try {
    createAuditLog(metadata.audit).record({
      actor: 'aerie-server store rebuild-index',
      action: 'backup.store_index_rebuilt',
      target: 'store',
      detail: { packs: report.packs, chunks: report.chunks, duplicates: report.duplicates, damaged: report.damaged.length, unreadable: report.unreadable.length }
    })
  } finally {
    metadata.close()
  }
  return damaged ? 1 : 0
}

/** A port that is taken or not allowed, said as what to do; anything else as it is. */
function listenProblem (err: unknown, config: ServerConfig): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string, port?: number }
  if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') return err
  const where = e.address !== undefined ? `${e.address}:${String(e.port)}` : `${config.host}:${config.port} or ${config.p2pListen.join(', ')}`
  return new NotConfiguredError(e.code === 'EADDRINUSE'
    ? `cannot listen on ${where}: another program (or another aerie-server) uses it; stop it, or choose another --port / --p2p-listen`
    : `cannot listen on ${where}: not allowed (ports below 1024 need privileges); choose another --port / --p2p-listen`)
}

