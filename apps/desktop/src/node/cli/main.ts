import { AerieError } from '@aerie/core'
import { DeviceHome, resolveHome } from '../device-home.ts'
import { caInit, devices, invite, revoke } from './ca-commands.ts'
import { enroll } from './enroll-command.ts'
import { configLanOnly, configLimit, configName, configShow } from './config-commands.ts'
import { id, peerAdd, run, status, stopAgent, ui } from './agent-commands.ts'
import { folderAdd, folderConfirm, folderPause, folderRemove, folderRescan, folderResume, folderShare, folderUnshare } from './folder-commands.ts'
import { shareCreate, shareList, shareRevoke } from './share-commands.ts'
import { versions, versionsRestore } from './version-commands.ts'
import { backupAdd, backupExclude, backupRemove, backupRun, backupSchedule, backupShow, restore, restoreBrowse, restoreList } from './backup-commands.ts'
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

const commands: Record<string, Command> = {
  'ca init': caInit,
  invite,
  enroll,
  id,
  devices,
  revoke,
  'peer add': peerAdd,
  config: configShow,
  'config lan-only': configLanOnly,
  'config upload-limit': configLimit('uploadLimit'),
  'config download-limit': configLimit('downloadLimit'),
  'config name': configName,
  'folder add': folderAdd,
  'folder remove': folderRemove,
  'folder share': folderShare,
  'folder rescan': folderRescan,
  'folder unshare': folderUnshare,
  'folder confirm': folderConfirm,
  'folder pause': folderPause,
  'folder resume': folderResume,
  versions,
  'versions restore': versionsRestore,
  'share create': shareCreate,
  'share list': shareList,
  'share revoke': shareRevoke,
  'backup add': backupAdd,
  'backup remove': backupRemove,
  'backup exclude': backupExclude,
  'backup schedule': backupSchedule,
  'backup show': backupShow,
  'backup run': backupRun,
  'restore list': restoreList,
  'restore browse': restoreBrowse,
  restore,
  run,
  status,
  ui,
  stop: stopAgent
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
  const command = commands[name]
  try {
    if (command == null) throw new UsageError(`unknown command "${rest.join(' ')}"`)
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

