import { execFile } from 'node:child_process'
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { PASSPHRASE } from '../test/support/agents.ts'
import { writeRandomFile } from './support/folder-trees.ts'
import { BenchError, checkFlags, cpuSeconds, flag, formatBytes, machine, peakRss, resetPeakRss, scratchDir, UsageError } from './support/measure.ts'
import { startServerAndAgent } from './support/server-agent.ts'

/**
 * Endpoint backup benchmark: a real agent backs up a generated tree of mixed sizes (~1 GiB at
 * scale 1: small text files, medium and large random ones) to a real aerie-server on 127.0.0.1,
 * beside Debian's `restic` backing up the same tree to a local repository in the same run: the
 * first backup, a second with nothing changed, an incremental after 2% of the files are edited
 * (one with an insertion at the start of a large file), and a full restore against `cp -a` (and
 * `cp -a` with every file fsynced, as a restore does).
 * Times include each command's process start (the aerie CLI asks the running agent).
 *
 *   npm run bench -- backup [--scale 1]
 */
export const description = 'backup a ~1 GiB mixed tree to the team server against restic: first, unchanged, 2% edits, restore vs cp -a; bytes sent; peak RSS'

const MiB = 1024 * 1024
const AERIE = resolve(import.meta.dirname, '../apps/desktop/bin/aerie.js')
const exec = promisify(execFile)
const RESTIC_ENV = { ...process.env, RESTIC_PASSWORD: 'bench only, not a secret' }

interface RunResult { snapshot: { id: string, received: { bytes: number } }, counters: { files: number, bytes: number } }

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['scale'])
  const scaleText = flag(args, 'scale') ?? '1'
  const scale = Number(scaleText)
  if (!Number.isFinite(scale) || scale <= 0 || scale > 16) throw new UsageError(`--scale ${scaleText}: give a number above 0, at most 16 (1 is ~1 GiB)`)
  const restic = await exec('restic', ['version']).then(r => r.stdout.trim(), () => undefined)
  // Removed at exit, whatever ends the run (scratchDir's handlers).
  const dir = (await scratchDir('backup', { makesManyFiles: true })).path
  const source = join(dir, 'source')
  const files = await makeCorpus(source, scale)
  const total = [...files.values()].reduce((a, b) => a + b, 0)
  console.log(`backup bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  scale ${scale}: ${files.size} files, ${formatBytes(total)} ` +
    `(small text, medium and large random) in ${dir}, page cache warm, load average ${loadavg()[0]!.toFixed(1)} at the start (a shared machine); ` +
    `reference: ${restic ?? 'restic not installed (apt-get install restic): its lines are left out'}`)

  await using setup = await startServerAndAgent(join(dir, 'aerie'))
  const aerie = async (...argv: string[]): Promise<string> => {
    try {
      return (await exec(process.execPath, [AERIE, '--home', setup.agent.home, ...argv], { env: { ...process.env, AERIE_CA_PASSPHRASE: PASSPHRASE }, maxBuffer: 64 * MiB })).stdout
    } catch (err) {
      throw new BenchError(`aerie ${argv.join(' ')} failed: ${(err as { stderr?: string }).stderr ?? String(err)}\n${setup.logTails()}`)
    }
  }
  const repo = join(dir, 'restic-repo')
  const resticRun = async (...argv: string[]): Promise<void> => { await exec('restic', ['--repo', repo, '--quiet', ...argv], { env: RESTIC_ENV, maxBuffer: 64 * MiB }) }
  const timed = async <T>(work: () => Promise<T>): Promise<{ s: number, value: T }> => {
    const started = performance.now()
    const value = await work()
    return { s: (performance.now() - started) / 1000, value }
  }
  const backup = async (): Promise<{ s: number, sent: number, serverRss?: number, agentRss?: number, cpu?: { agent: number, server: number } }> => {
    resetPeakRss(setup.serverPid())
    resetPeakRss(setup.agentPid())
    const cpu = cpuOf(setup.agentPid(), setup.serverPid())
    const { s, value } = await timed(async () => JSON.parse(await aerie('backup', 'run', '--json')) as RunResult)
    return { s, sent: value.snapshot.received.bytes, serverRss: peakRss(setup.serverPid()), agentRss: peakRss(setup.agentPid()), cpu: cpu() }
  }
  const resticBackup = async (): Promise<number | undefined> => restic === undefined ? undefined : (await timed(async () => { await resticRun('backup', source) })).s
  const storeBytes = async (): Promise<number> => await duBytes(join(setup.server.dataDir, 'store'))

  await aerie('backup', 'add', source)
  if (restic !== undefined) await resticRun('init')
  const first = await backup()
  const firstStore = await storeBytes()
  const resticFirst = await resticBackup()
  const resticFirstRepo = restic === undefined ? 0 : await duBytes(repo)
  const second = await backup()
  const resticSecond = await resticBackup()
  const edited = await editTwoPercent(source, files)
  const third = await backup()
  const resticThird = await resticBackup()
  const growth = await storeBytes() - firstStore
  const resticGrowth = restic === undefined ? 0 : await duBytes(repo) - resticFirstRepo

  const snapshot = (JSON.parse(await aerie('restore', 'list', '--json')) as Array<{ id: string }>).at(-1)!.id
  resetPeakRss(setup.serverPid())
  resetPeakRss(setup.agentPid())
  const restoreCpu = cpuOf(setup.agentPid(), setup.serverPid())
  const restored = await timed(async () => await aerie('restore', snapshot, '--to', join(dir, 'restored')))
  const restoreRss = { server: peakRss(setup.serverPid()), agent: peakRss(setup.agentPid()) }
  const restoreCpuUsed = restoreCpu()
  const resticRestore = restic === undefined ? undefined : (await timed(async () => { await resticRun('restore', 'latest', '--target', join(dir, 'restic-restored')) })).s
  const cp = await timed(async () => { await exec('cp', ['-a', source, join(dir, 'cp-copy')]) })
  // A restore fsyncs every file before it renames it into place; cp -a leaves its copy in the
  // page cache. The same copy made durable (coreutils sync fsyncs each file and directory named):
  const cpSynced = await timed(async () => {
    await exec('cp', ['-a', source, join(dir, 'cp-synced')])
    await exec('find', [join(dir, 'cp-synced'), '-exec', 'sync', '{}', '+'])
  })

  const rate = (s: number): string => `${(total / s / 1e6).toFixed(0)} MB/s`
  const versus = (ours: number, theirs: number | undefined): string => theirs === undefined ? '' : `   restic ${theirs.toFixed(2)} s (aerie at ${(theirs / ours).toFixed(2)}x its speed)`
  console.log(`${label('first')}${first.s.toFixed(2)} s   ${rate(first.s)}   sent ${formatBytes(first.sent)}, store ${formatBytes(firstStore)}${versus(first.s, resticFirst)}` +
    `${restic === undefined ? '' : `, repository ${formatBytes(resticFirstRepo)}`}`)
  printCpu(first.cpu)
  console.log(`${label('unchanged')}${second.s.toFixed(2)} s   sent ${formatBytes(second.sent)}${versus(second.s, resticSecond)}`)
  console.log(`${label('2% edited')}${third.s.toFixed(2)} s   ${edited} files edited (one with an insertion at its start), sent ${formatBytes(third.sent)}, ` +
    `store grew ${formatBytes(growth)}${versus(third.s, resticThird)}${restic === undefined ? '' : `, repository grew ${formatBytes(resticGrowth)}`}`)
  console.log(`${label('restore')}${restored.s.toFixed(2)} s   ${rate(restored.s)}   ${(restored.s / cp.s).toFixed(2)}x cp -a (${cp.s.toFixed(2)} s), ` +
    `${(restored.s / cpSynced.s).toFixed(2)}x cp -a + fsync of each file (${cpSynced.s.toFixed(2)} s)` +
    `${resticRestore === undefined ? '' : `   restic ${resticRestore.toFixed(2)} s (aerie at ${(resticRestore / restored.s).toFixed(2)}x its speed)`}`)
  printCpu(restoreCpuUsed)
  console.log(`${label('peak RSS')}backup: agent ${formatBytes(Math.max(first.agentRss ?? 0, third.agentRss ?? 0))}, server ${formatBytes(Math.max(first.serverRss ?? 0, third.serverRss ?? 0))}; ` +
    `restore: agent ${formatBytes(restoreRss.agent ?? 0)}, server ${formatBytes(restoreRss.server ?? 0)}`)
}

function printCpu (cpu: { agent: number, server: number } | undefined): void {
  if (cpu !== undefined) console.log(`${label('  cpu')}agent ${cpu.agent.toFixed(2)} s, server ${cpu.server.toFixed(2)} s (CPU seconds, all threads: steadier than wall time on a shared machine)`)
}

/** CPU seconds the agent and the server use from now until the returned function is called (undefined off Linux). */
function cpuOf (agentPid: number, serverPid: number): () => { agent: number, server: number } | undefined {
  const before = [cpuSeconds(agentPid), cpuSeconds(serverPid)]
  return () => {
    const after = [cpuSeconds(agentPid), cpuSeconds(serverPid)]
    if ([...before, ...after].some(x => x === undefined)) return undefined
    return { agent: after[0]! - before[0]!, server: after[1]! - before[1]! }
  }
}

function label (what: string): string {
  return `  ${what.padEnd(11)}`
}

/** Small text-like files (compressible, like documents and code), medium and large random ones (media, archives). */
async function makeCorpus (root: string, scale: number): Promise<Map<string, number>> {
  const files = new Map<string, number>()
  const words = 'the team server keeps backups of every laptop folder chunk snapshot restore policy hold scrub'.split(' ')
  const small = Math.round(3000 * scale)
  const medium = Math.round(300 * scale)
  const large = Math.max(1, Math.round(6 * scale))
  for (let i = 0; i < small; i++) {
    const path = join(root, 'docs', `d${i % 40}`, `note-${i}.txt`)
    if (i % 40 === i) await mkdir(join(root, 'docs', `d${i}`), { recursive: true })
    const size = 1024 + ((i * 7919) % (48 * 1024))
    let text = `note ${i} ${Math.random()}\n`
    while (text.length < size) text += `${words[(text.length * 31 + i) % words.length]} ${(Math.random() * 1e6).toFixed(0)}${text.length % 97 === 0 ? '\n' : ' '}`
    await writeFile(path, text.slice(0, size))
    files.set(path, size)
  }
  await mkdir(join(root, 'media'), { recursive: true })
  for (let i = 0; i < medium; i++) {
    const path = join(root, 'media', `m-${i}.bin`)
    const size = 256 * 1024 + ((i * 104729) % (2 * MiB))
    await writeRandomFile(path, size)
    files.set(path, size)
  }
  await mkdir(join(root, 'large'), { recursive: true })
  for (let i = 0; i < large; i++) {
    const path = join(root, 'large', `disk-${i}.img`)
    await writeRandomFile(path, 80 * MiB)
    files.set(path, 80 * MiB)
  }
  return files
}

/** Edits 2% of the files in place (4 KiB overwritten in the middle), and inserts 100 bytes at the start of one large file. */
async function editTwoPercent (root: string, files: Map<string, number>): Promise<number> {
  const paths = [...files.keys()]
  const step = 50
  let edited = 0
  for (let i = 0; i < paths.length; i += step) {
    const path = paths[i]!
    const file = await open(path, 'r+')
    await file.write(Buffer.from('x'.repeat(Math.min(4096, files.get(path)!))), 0, undefined, Math.floor(files.get(path)! / 2))
    await file.close()
    edited++
  }
  const big = paths.find(p => p.includes(`${root}/large/`))!
  const file = await open(big, 'r')
  const rest = Buffer.alloc(files.get(big)!)
  await file.read(rest, 0, rest.byteLength, 0)
  await file.close()
  await writeFile(big, Buffer.concat([Buffer.from('an inserted header '.repeat(5) + '\n'), rest]))
  return edited + 1
}

async function duBytes (path: string): Promise<number> {
  let sum = 0
  for (const name of await readdir(path, { recursive: true })) {
    const s = await stat(join(path, name))
    if (s.isFile()) sum += s.size
  }
  return sum
}
