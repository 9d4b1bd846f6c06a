import { AerieError } from '@aerie/core/basics'
import { DeviceHome, resolveHome } from '../device-home.ts'
import { UsageError } from './args.ts'
import { USAGE } from './usage.ts'

/**
 * `aerie`: the headless agent and its command line. Every failure is one line that
 * says what to do, with a non-zero exit code (1: it did not work, 2: wrong usage).
 */
export interface CommandContext {
  home: DeviceHome
  args: string[]
  out(line: string): void
}

type Command = (ctx: CommandContext) => Promise<void>

// Each command's module is loaded when it runs: most commands only talk to the running agent
// and need none of the engine, whose import (`@aerie/core`: libp2p, node-forge, ...) takes
// ≈ 0.4 s, longer than many a command's own work.
const commands: Record<string, () => Promise<Command>> = {
  'ca init': async () => (await import('./ca-commands.ts')).caInit,
  invite: async () => (await import('./ca-commands.ts')).invite,
  enroll: async () => (await import('./enroll-command.ts')).enroll,
  id: async () => (await import('./agent-commands.ts')).id,
  devices: async () => (await import('./ca-commands.ts')).devices,
  revoke: async () => (await import('./ca-commands.ts')).revoke,
  'peer add': async () => (await import('./agent-commands.ts')).peerAdd,
  config: async () => (await import('./config-commands.ts')).configShow,
  'config lan-only': async () => (await import('./config-commands.ts')).configLanOnly,
  'config upload-limit': async () => (await import('./config-commands.ts')).configLimit('uploadLimit'),
  'config download-limit': async () => (await import('./config-commands.ts')).configLimit('downloadLimit'),
  'config name': async () => (await import('./config-commands.ts')).configName,
  'config min-free': async () => (await import('./config-commands.ts')).configMinFree,
  'folder add': async () => (await import('./folder-commands.ts')).folderAdd,
  'folder remove': async () => (await import('./folder-commands.ts')).folderRemove,
  'folder share': async () => (await import('./folder-commands.ts')).folderShare,
  'folder rescan': async () => (await import('./folder-commands.ts')).folderRescan,
  'folder unshare': async () => (await import('./folder-commands.ts')).folderUnshare,
  'folder confirm': async () => (await import('./folder-commands.ts')).folderConfirm,
  'folder pause': async () => (await import('./folder-commands.ts')).folderPause,
  'folder resume': async () => (await import('./folder-commands.ts')).folderResume,
  'folder retention': async () => (await import('./version-commands.ts')).folderRetention,
  versions: async () => (await import('./version-commands.ts')).versions,
  'versions restore': async () => (await import('./version-commands.ts')).versionsRestore,
  'share create': async () => (await import('./share-commands.ts')).shareCreate,
  'share list': async () => (await import('./share-commands.ts')).shareList,
  'share revoke': async () => (await import('./share-commands.ts')).shareRevoke,
  'backup add': async () => (await import('./backup-commands.ts')).backupAdd,
  'backup remove': async () => (await import('./backup-commands.ts')).backupRemove,
  'backup exclude': async () => (await import('./backup-commands.ts')).backupExclude,
  'backup schedule': async () => (await import('./backup-commands.ts')).backupSchedule,
  'backup show': async () => (await import('./backup-commands.ts')).backupShow,
  'backup run': async () => (await import('./backup-commands.ts')).backupRun,
  'restore list': async () => (await import('./backup-commands.ts')).restoreList,
  'restore browse': async () => (await import('./backup-commands.ts')).restoreBrowse,
  restore: async () => (await import('./backup-commands.ts')).restore,
  run: async () => (await import('./agent-commands.ts')).run,
  status: async () => (await import('./agent-commands.ts')).status,
  ui: async () => (await import('./agent-commands.ts')).ui,
  stop: async () => (await import('./agent-commands.ts')).stopAgent
}

export async function main (argv: string[]): Promise<number> {
  // `aerie status | head` closes the pipe early: that is the reader's choice, not our error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0) })
  let homeFlag: string | undefined
  const rest = [...argv]
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--home') { homeFlag = rest[i + 1]; rest.splice(i, 2); i-- } else if (rest[i]?.startsWith('--home=') === true) { homeFlag = rest[i]!.slice(7); rest.splice(i, 1); i-- }
  }
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
    process.stdout.write(USAGE + '\n')
    return rest.length === 0 ? 2 : 0
  }
  const two = `${rest[0]} ${rest[1] ?? ''}`
  const [name, args] = commands[two] != null ? [two, rest.slice(2)] : [rest[0]!, rest.slice(1)]
  const load = commands[name]
  try {
    if (load == null) throw new UsageError(`unknown command "${rest.join(' ')}"`)
    const command = await load()
    await command({ home: new DeviceHome(resolveHome(homeFlag)), args, out: (line) => { process.stdout.write(line + '\n') } })
    return 0
  } catch (err) {
    return report(err)
  }
}

function report (err: unknown): number {
  if (err instanceof AerieError) {
    process.stderr.write(`aerie: ${err.message}\n`)
    return err.code === 'ERR_USAGE' ? 2 : 1
  }
  // parseArgs' own errors are usage errors too.
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`aerie: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (process.env.AERIE_DEBUG != null) process.stderr.write(`${(err as Error).stack}\n`)
  process.stderr.write(`aerie: unexpected error: ${(err as Error).message} (set AERIE_DEBUG=1 for details)\n`)
  return 1
}

