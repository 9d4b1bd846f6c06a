import { AerieError } from '@aerie/core/basics'
import { DeviceHome, resolveHome } from '../device-home.ts'
import { UsageError } from './args.ts'
import type * as CaCommands from './ca-commands.ts'
import type * as ConfigCommands from './config-commands.ts'
import type * as AgentCommands from './agent-commands.ts'
import type * as FolderCommands from './folder-commands.ts'
import type * as ShareCommands from './share-commands.ts'
import type * as VersionCommands from './version-commands.ts'
import type * as BackupCommands from './backup-commands.ts'
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
const ca = async (): Promise<typeof CaCommands> => await import('./ca-commands.ts')
const config = async (): Promise<typeof ConfigCommands> => await import('./config-commands.ts')
const agent = async (): Promise<typeof AgentCommands> => await import('./agent-commands.ts')
const folder = async (): Promise<typeof FolderCommands> => await import('./folder-commands.ts')
const share = async (): Promise<typeof ShareCommands> => await import('./share-commands.ts')
const version = async (): Promise<typeof VersionCommands> => await import('./version-commands.ts')
const backup = async (): Promise<typeof BackupCommands> => await import('./backup-commands.ts')

const commands: Record<string, () => Promise<Command>> = {
  'ca init': async () => (await ca()).caInit,
  invite: async () => (await ca()).invite,
  enroll: async () => (await import('./enroll-command.ts')).enroll,
  id: async () => (await agent()).id,
  devices: async () => (await ca()).devices,
  revoke: async () => (await ca()).revoke,
  'peer add': async () => (await agent()).peerAdd,
  config: async () => (await config()).configShow,
  'config lan-only': async () => (await config()).configLanOnly,
  'config upload-limit': async () => (await config()).configLimit('uploadLimit'),
  'config download-limit': async () => (await config()).configLimit('downloadLimit'),
  'config name': async () => (await config()).configName,
  'folder add': async () => (await folder()).folderAdd,
  'folder remove': async () => (await folder()).folderRemove,
  'folder share': async () => (await folder()).folderShare,
  'folder rescan': async () => (await folder()).folderRescan,
  'folder unshare': async () => (await folder()).folderUnshare,
  'folder confirm': async () => (await folder()).folderConfirm,
  'folder pause': async () => (await folder()).folderPause,
  'folder resume': async () => (await folder()).folderResume,
  versions: async () => (await version()).versions,
  'versions restore': async () => (await version()).versionsRestore,
  'share create': async () => (await share()).shareCreate,
  'share list': async () => (await share()).shareList,
  'share revoke': async () => (await share()).shareRevoke,
  'backup add': async () => (await backup()).backupAdd,
  'backup remove': async () => (await backup()).backupRemove,
  'backup exclude': async () => (await backup()).backupExclude,
  'backup schedule': async () => (await backup()).backupSchedule,
  'backup show': async () => (await backup()).backupShow,
  'backup run': async () => (await backup()).backupRun,
  'restore list': async () => (await backup()).restoreList,
  'restore browse': async () => (await backup()).restoreBrowse,
  restore: async () => (await backup()).restore,
  run: async () => (await agent()).run,
  status: async () => (await agent()).status,
  ui: async () => (await agent()).ui,
  stop: async () => (await agent()).stopAgent
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

