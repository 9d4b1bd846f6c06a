import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { copyFile, mkdir, open, readFile, rm, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from '../test/support/agents.ts'
import { startAgentPair } from './support/agent-pair.ts'
import { digestOf, sha256, writeDuplicatedFiles, writeRandomFile, writeRandomFiles } from './support/folder-trees.ts'
import { BenchError, checkFlags, flag, formatBytes, machine, peakRss, percentile, resetPeakRss, scratchDir, UsageError } from './support/measure.ts'
import { agentCpu, cpuBetween, untilEdited, untilQuiet, untilSame } from './support/sync-waits.ts'
import type { AgentPair } from './support/agent-pair.ts'
import type { Cpu } from './support/sync-waits.ts'

/**
 * Sync benchmark: two real agents (`aerie run`) on 127.0.0.1, the owner sharing a folder
 * with the member, next to the same bytes copied by `cp -r` and `rsync -a` between two
 * local directories in the same run. Cases: a cold sync of big files, one of many small
 * files, an in-place edit of a synced file (watcher → peer), and files half of which
 * duplicate the other half (bytes on the wire / unique bytes). Fresh agents per case; the
 * datasets are made, and the owner has scanned them, before any clock starts.
 *
 *   npm run bench -- sync [--rounds 1] [--only big,small,edit,dedupe] [--scale 1]
 */
export const description = 'two agents on 127.0.0.1: big files, small files, an edit, duplicates; against cp -r and rsync -a'

const CASES = ['big', 'small', 'edit', 'dedupe'] as const
type Case = typeof CASES[number]

const FOLDER_ID = 'bench'
const MiB = 1024 * 1024
const EDITS = 3
const EDIT_REGION = MiB
/** The issue's targets. */
const RSYNC_TARGET = 2
const EDIT_TARGET_S = 0.5
const DEDUPE_TARGET = 1.1

interface Sizes {
  big: { files: number, size: number }
  small: { files: number, size: number, perDir: number }
  edit: { size: number }
  dedupe: { files: number, size: number }
}

interface Peaks { owner?: number, member?: number, phase: string }

interface ColdResult {
  s: number
  cpS: number
  rsyncS: number
  bytes: number
  uniqueBytes: number
  files: number
  wire: number
  cliS: number
  /** The slowest status answer while it synced. */
  statusMs: number
  cpu: Cpu
  rss: Peaks
  note?: string
}

interface EditResult {
  samples: number[]
  cpS: number
  rsyncS: number
  wirePerEdit: number
  /** Per edit, quiet waits included. */
  cpu: Cpu
  rss: Peaks
  note?: string
}

export async function run (args: string[]): Promise<void> {
  checkFlags(args, ['rounds', 'only', 'scale'])
  const rounds = parseRounds(flag(args, 'rounds'))
  const only = parseCases(flag(args, 'only'))
  const scale = parseScale(flag(args, 'scale'))
  const sizes = sizesFor(scale)
  const scratch = await scratchDir('sync', { makesManyFiles: true })
  const dir = scratch.path
  try {
    console.log(`sync bench  ${new Date().toISOString()}  node ${process.version}  ${machine()}  scale ${scale}: ` +
      `big ${sizes.big.files} x ${formatBytes(sizes.big.size)}, small ${sizes.small.files} x ${formatBytes(sizes.small.size)} in ${Math.ceil(sizes.small.files / sizes.small.perDir)} dirs, ` +
      `edit ${formatBytes(EDIT_REGION)} in ${formatBytes(sizes.edit.size)}, dedupe ${sizes.dedupe.files} x ${formatBytes(sizes.dedupe.size)} (half copies); ` +
      `random bytes in ${dir}, page cache warm, ${rounds} round${rounds > 1 ? 's' : ''}`)
    console.log(`${label('timing')}from \`aerie folder add\` on the receiver (its CLI start, its scan of the empty folder and the index exchange included) ` +
      `to the end of its last pull (as its log says), once its status says in sync and every file's size and SHA-256 match; Aerie fsyncs each file, cp and rsync do not`)
    const cold = new Map<Case, ColdResult[]>()
    const edits: EditResult[] = []
    const troubles = new Map<Case, string[]>()
    // Rounds interleave the cases, so that a slow spell of this shared machine does not hit one case only.
    for (let round = 0; round < rounds; round++) {
      for (const kind of only) {
        const work = join(dir, `${kind}-${round}`)
        await mkdir(work)
        try {
          if (kind === 'edit') {
            const result = await editCase(work, sizes.edit.size, troubles)
            edits.push(result)
            console.error(`  round ${round + 1} edit: ${result.samples.map(s => s.toFixed(2)).join(', ')} s`)
          } else {
            const result = await coldCase(kind, work, sizes, troubles)
            cold.set(kind, [...cold.get(kind) ?? [], result])
            console.error(`  round ${round + 1} ${kind}: ${result.s.toFixed(2)} s, cp ${result.cpS.toFixed(2)} s, rsync ${result.rsyncS.toFixed(2)} s`)
          }
        } finally {
          // Trees of many files stay until the end: ext4 passes over the inodes freed in the last
          // minute or so when it makes a file (see scratchDir), and a deletion just before a timed
          // step would time the file system, not the step.
          if (kind !== 'small') await rm(work, { recursive: true, force: true })
        }
      }
    }
    report(only, cold, edits, troubles, rounds)
  } finally {
    await scratch.remove()
  }
}

// ---- the cases ------------------------------------------------------------------------------

async function coldCase (kind: Exclude<Case, 'edit'>, work: string, sizes: Sizes, troubles: Map<Case, string[]>): Promise<ColdResult> {
  const source = join(work, 'owner-folder')
  const target = join(work, 'member-folder')
  await mkdir(source)
  await mkdir(target)
  if (kind === 'big') await writeRandomFiles(source, sizes.big.files, sizes.big.size, sizes.big.files)
  if (kind === 'small') await writeRandomFiles(source, sizes.small.files, sizes.small.size, sizes.small.perDir)
  if (kind === 'dedupe') await writeDuplicatedFiles(source, sizes.dedupe.files, sizes.dedupe.size)
  const expected = await digestOf(source)
  const expectedSizes = new Map([...expected].map(([path, value]) => [path, Number(value.split(' ')[0])]))
  const bytes = [...expectedSizes.values()].reduce((a, b) => a + b, 0)
  const uniqueBytes = [...new Set(expected.values())].reduce((n, value) => n + Number(value.split(' ')[0]), 0)

  // The copies stay until the end: deleting them would slow the next step's file creation (see run).
  const cpS = await timedCopy('cp', ['-r', source, join(work, 'cp')])
  const rsyncS = await timedCopy('rsync', ['-a', `${source}/`, join(work, 'rsync')])
  await flushDisk()

  await using pair = await startAgentPair(join(work, 'agents'))
  try {
    await pair.offer(source, FOLDER_ID)
    const phase = resetPeaks(pair)
    const cpuBefore = agentCpu(pair)
    const started = performance.now()
    await pair.member.ok('folder', 'add', target, '--id', FOLDER_ID)
    const cliS = (performance.now() - started) / 1000
    const done = await untilSame(pair, FOLDER_ID, target, expected, expectedSizes, bytes, started)
    const s = (done.at - started) / 1000
    const cpu = cpuBetween(cpuBefore, done.cpu)
    const rss = peaks(pair, phase)
    const wire = await pair.memberBytesIn()
    const statusMs = Math.max(...done.statusMs)
    return { s, cpS, rsyncS, bytes, uniqueBytes, files: expected.size, wire, cliS, statusMs, cpu, rss, ...(done.note != null ? { note: done.note } : {}) }
  } finally {
    troubles.set(kind, [...troubles.get(kind) ?? [], ...pair.troubles()])
  }
}

/**
 * A file is synced; then, EDITS times, 1 MiB of it is overwritten in place on the owner, and
 * the time runs until the member's copy is identical (the region polled, the whole file checked).
 */
async function editCase (work: string, size: number, troubles: Map<Case, string[]>): Promise<EditResult> {
  const source = join(work, 'owner-folder')
  const target = join(work, 'member-folder')
  await mkdir(source)
  await mkdir(target)
  const name = 'edited.bin'
  await writeRandomFile(join(source, name), size)
  const content = await readFile(join(source, name))
  const regions = Math.floor(size / EDIT_REGION)
  // Spread over the file, a different region each time.
  const step = Math.max(1, Math.floor(regions / EDITS))
  const offsets = Array.from({ length: EDITS }, (_, i) => ((1 + i * step) % regions) * EDIT_REGION)

  const { cpS, rsyncS } = await timedEditCopies(work, source, name, offsets[0]!)

  await using pair = await startAgentPair(join(work, 'agents'))
  try {
    await pair.offer(source, FOLDER_ID)
    const added = performance.now()
    await pair.member.ok('folder', 'add', target, '--id', FOLDER_ID)
    await untilSame(pair, FOLDER_ID, target, await digestOf(source), new Map([[name, size]]), size, added)
    await waitFor(async () => (await pair.folder(pair.owner, FOLDER_ID))?.watching === true && (await pair.folder(pair.member, FOLDER_ID))?.watching === true,
      'both agents to watch the folder', 60_000)
    const phase = resetPeaks(pair)
    const samples: number[] = []
    const notes: string[] = []
    const wireBefore = await pair.memberBytesIn()
    const cpuBefore = agentCpu(pair)
    for (const offset of offsets) {
      await untilQuiet(pair, FOLDER_ID)
      const region = randomBytes(EDIT_REGION)
      region.copy(content, offset)
      const hash = createHash('sha256').update(content).digest('hex')
      const started = performance.now()
      const file = await open(join(source, name), 'r+')
      try {
        await file.write(region, 0, region.byteLength, offset)
      } finally {
        await file.close()
      }
      const arrived = await untilEdited(pair, join(target, name), region, offset, hash)
      samples.push((arrived.at - started) / 1000)
      if (arrived.note != null) notes.push(arrived.note)
    }
    await untilQuiet(pair, FOLDER_ID)
    const wirePerEdit = (await pair.memberBytesIn() - wireBefore) / EDITS
    const used = cpuBetween(cpuBefore, agentCpu(pair))
    const cpu = { owner: used.owner == null ? undefined : used.owner / EDITS, member: used.member == null ? undefined : used.member / EDITS }
    return { samples, cpS, rsyncS, wirePerEdit, cpu, rss: peaks(pair, phase), ...(notes.length > 0 ? { note: notes.join('; ') } : {}) }
  } finally {
    troubles.set('edit', [...troubles.get('edit') ?? [], ...pair.troubles()])
  }
}

/**
 * The references for an edit: the same 1 MiB edit made to a copy of the file, which then goes
 * to stale copies of the folder by `cp -r` and `rsync -a` (both copy the whole file: rsync's
 * delta transfer is off between local directories).
 */
async function timedEditCopies (work: string, source: string, name: string, offset: number): Promise<{ cpS: number, rsyncS: number }> {
  const edited = join(work, 'ref-edited')
  const cp = join(work, 'ref-cp')
  const rsync = join(work, 'ref-rsync')
  await mkdir(edited)
  await copyFile(join(source, name), join(edited, name))
  await command('cp', ['-r', `${source}/.`, cp])
  await command('rsync', ['-a', `${source}/`, `${rsync}/`])
  const file = await open(join(edited, name), 'r+')
  try {
    await file.write(randomBytes(EDIT_REGION), 0, EDIT_REGION, offset)
  } finally {
    await file.close()
  }
  // rsync compares whole-second mtimes: an edit seconds later, as a real one would be.
  const later = new Date(Date.now() + 10_000)
  await utimes(join(edited, name), later, later)
  await flushDisk()
  const cpS = await timedCopy('cp', ['-r', `${edited}/.`, cp])
  const rsyncS = await timedCopy('rsync', ['-a', `${edited}/`, `${rsync}/`])
  if (await sha256(join(rsync, name), Infinity) !== await sha256(join(edited, name), Infinity)) throw new BenchError('rsync -a did not copy the edited file')
  for (const dir of [edited, cp, rsync]) await rm(dir, { recursive: true })
  return { cpS, rsyncS }
}

// ---- references and measurements --------------------------------------------------------------

const execFileAsync = promisify(execFile)

async function command (file: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(file, args, { timeout: 600_000 })
  } catch (err) {
    const e = err as { code?: string, stderr?: string }
    if (e.code === 'ENOENT') throw new BenchError(`${file} is not installed; the sync benchmark compares with it (apt-get install ${file})`)
    throw new BenchError(`${file} ${args.join(' ')} failed: ${e.stderr ?? (err as Error).message}`)
  }
}

/** Seconds `file args` took; dirty pages are written out first, so no copy pays for the one before. */
async function timedCopy (file: string, args: string[]): Promise<number> {
  await flushDisk()
  const started = performance.now()
  await command(file, args)
  return (performance.now() - started) / 1000
}

async function flushDisk (): Promise<void> {
  await command('sync', [])
}

/** Peaks are reset (clear_refs) before the measured phase, if /proc lets us. */
function resetPeaks (pair: AgentPair): string {
  const reset = resetPeakRss(pair.pid(pair.owner)) && resetPeakRss(pair.pid(pair.member))
  return reset ? 'measured phase' : 'agent lifetime (could not reset)'
}

function cpuText (cpu: Cpu[]): string {
  const median = (values: Array<number | undefined>): string => values.some(v => v == null) ? 'unknown' : `${percentile(values as number[], 50).toFixed(2)} s`
  return `CPU owner ${median(cpu.map(c => c.owner))}, member ${median(cpu.map(c => c.member))}`
}

function peaks (pair: AgentPair, phase: string): Peaks {
  return { owner: peakRss(pair.pid(pair.owner)), member: peakRss(pair.pid(pair.member)), phase }
}

// ---- the report ---------------------------------------------------------------------------

function report (only: Case[], cold: Map<Case, ColdResult[]>, edits: EditResult[], troubles: Map<Case, string[]>, rounds: number): void {
  const names: Record<Case, string> = { big: 'big files', small: 'small files', edit: 'edit', dedupe: 'duplicates' }
  const rss: string[] = []
  for (const kind of only) {
    if (kind === 'edit') {
      if (edits.length === 0) continue
      const samples = edits.flatMap(e => e.samples)
      const median = percentile(samples, 50)
      const cp = percentile(edits.map(e => e.cpS), 50)
      const rsync = percentile(edits.map(e => e.rsyncS), 50)
      const size = formatBytes(percentile(edits.map(e => e.wirePerEdit), 50))
      console.log(`${label(names.edit)}${median.toFixed(2)} s   median of ${samples.length} edits${spread(samples, 2)}, write on the owner to identical on the member; ` +
        `the file by cp -r ${secs(cp)}, rsync -a ${secs(rsync)}; target < ${EDIT_TARGET_S} s: ${median < EDIT_TARGET_S ? 'met' : 'NOT met'}`)
      console.log(`${label('')}per edit: ${size} on the wire, ${cpuText(edits.map(e => e.cpu))} (the 1 s settling after each included)`)
      for (const note of edits.flatMap(e => e.note ?? [])) console.log(`${label('')}note: ${note}`)
      rss.push(`edit: ${peaksText(edits.map(e => e.rss))}`)
      continue
    }
    const results = cold.get(kind) ?? []
    if (results.length === 0) continue
    const last = results.at(-1)!
    const seconds = results.map(r => r.s)
    const s = percentile(seconds, 50)
    const vsRsync = percentile(results.map(r => r.s / r.rsyncS), 50)
    const vsCp = percentile(results.map(r => r.s / r.cpS), 50)
    const rsync = percentile(results.map(r => r.rsyncS), 50)
    const cp = percentile(results.map(r => r.cpS), 50)
    const rate = kind === 'small' ? `${(last.files / s).toFixed(0)} files/s` : `${(last.bytes / 1e6 / s).toFixed(0)} MB/s`
    const references = `${vsRsync.toFixed(1)} x rsync (${secs(rsync)}), ${vsCp.toFixed(1)} x cp (${secs(cp)})`
    const wire = percentile(results.map(r => r.wire / r.bytes), 50)
    const cli = `${cpuText(results.map(r => r.cpu))}; \`folder add\` ${percentile(results.map(r => r.cliS), 50).toFixed(2)} s of it; status answered within ${Math.max(...results.map(r => r.statusMs)).toFixed(0)} ms`
    if (kind === 'dedupe') {
      const ratio = percentile(results.map(r => r.wire / r.uniqueBytes), 50)
      console.log(`${label(names.dedupe)}wire ${ratio.toFixed(2)} x unique bytes (${formatBytes(last.wire)} received for ${formatBytes(last.uniqueBytes)} unique of ${formatBytes(last.bytes)}); ` +
        `target ~1.0 (<= ${DEDUPE_TARGET}): ${ratio <= DEDUPE_TARGET ? 'met' : 'NOT met'}`)
      console.log(`${label('')}${secs(s)}${spread(seconds, 2)}, ${references}; ${cli}`)
    } else {
      console.log(`${label(names[kind])}${secs(s)}${spread(seconds, 2)}   ${rate}   ${references}; target <= ${RSYNC_TARGET} x rsync: ${vsRsync <= RSYNC_TARGET ? 'met' : 'NOT met'}`)
      console.log(`${label('')}${formatBytes(last.bytes)} in ${last.files} files; wire ${wire.toFixed(3)} x the data; ${cli}${rounds > 1 ? `; median of ${rounds} rounds` : ''}`)
    }
    for (const note of results.flatMap(r => r.note ?? [])) console.log(`${label('')}note: ${note}`)
    rss.push(`${kind}: ${peaksText(results.map(r => r.rss))}`)
  }
  if (rss.length > 0) console.log(`${label('peak RSS')}${rss.join('   ')}   (owner sends, member receives; VmHWM during the measured phase, highest of the rounds)`)
  console.log(`${label('scan')}the first scan and rescan of 100,000 files are their own benchmark: npm run bench -- scan`)
  for (const [kind, lines] of troubles) {
    if (lines.length === 0) continue
    console.log(`${label('agent logs')}${kind}: ${lines.length} line${lines.length > 1 ? 's' : ''} that look like trouble, e.g. ${lines.slice(0, 3).map(l => l.slice(0, 200)).join(' | ')}`)
  }
}

function peaksText (rounds: Peaks[]): string {
  const highest = (values: Array<number | undefined>): string =>
    values.some(v => v == null) ? 'unknown' : `${(Math.max(...values as number[]) / MiB).toFixed(0)} MiB`
  const phases = [...new Set(rounds.map(r => r.phase).filter(p => p !== 'measured phase'))]
  return `owner ${highest(rounds.map(r => r.owner))}, member ${highest(rounds.map(r => r.member))}${phases.length > 0 ? ` (${phases.join(', ')})` : ''}`
}

function secs (s: number): string {
  return `${s.toFixed(s < 10 ? 2 : 1)} s`
}

function spread (values: number[], digits: number): string {
  return values.length < 2 ? '' : ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`
}

function label (what: string): string {
  return (what === '' ? '' : `sync ${what}`).padEnd(20)
}

// ---- options ------------------------------------------------------------------------------

/** The issue's datasets, times `scale` (files of at least 1 MiB; the edit stays 1 MiB). */
function sizesFor (scale: number): Sizes {
  const bytes = (n: number, min: number): number => Math.max(min, Math.round(n * scale / MiB) * MiB)
  return {
    big: { files: 16, size: bytes(64 * MiB, MiB) },
    small: { files: Math.max(100, Math.round(20_000 * scale)), size: 4096, perDir: 100 },
    edit: { size: bytes(64 * MiB, 4 * MiB) },
    dedupe: { files: 16, size: bytes(32 * MiB, MiB) }
  }
}

function parseRounds (text: string | undefined): number {
  if (text == null) return 1
  const rounds = Number(text)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new UsageError(`--rounds: "${text}" is not a whole number from 1 to 10`)
  return rounds
}

function parseScale (text: string | undefined): number {
  if (text == null) return 1
  const scale = Number(text)
  if (!Number.isFinite(scale) || scale < 0.01 || scale > 4) throw new UsageError(`--scale: "${text}" is not a number from 0.01 to 4`)
  return scale
}

function parseCases (text: string | undefined): Case[] {
  if (text == null) return [...CASES]
  const cases = text.split(',').map(c => c.trim())
  for (const kind of cases) {
    if (!(CASES as readonly string[]).includes(kind)) throw new UsageError(`--only: "${kind}" is not one of ${CASES.join(', ')}`)
  }
  return CASES.filter(c => cases.includes(c))
}
