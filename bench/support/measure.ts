import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Small pieces every benchmark needs: byte sizes as people write them, percentiles,
 * the machine description for the header, peak RSS, and a watchdog so that no loop
 * can hang a run.
 */

/** A mistake in how the benchmark was invoked; bench/run.ts exits with 2 for these. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A run that failed for a reason its message states (stall, timeout, receiver died): no stack needed. */
export class BenchError extends Error {
  override name = 'BenchError'
}

/** The reason a step was aborted (the watchdog's message), rather than a bare AbortError. */
export function abortReason (err: unknown, signal: AbortSignal, what: string): Error {
  const reason = signal.aborted ? signal.reason as unknown : err
  if (reason instanceof BenchError) return reason
  return new BenchError(`${what} failed: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: err })
}

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, kb: 1e3, mb: 1e6, gb: 1e9
}

/** '256MiB', '1 GiB', '500MB', '1048576' → bytes. */
export function parseBytes (text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'x']
  if (match == null || unit == null) throw new UsageError(`${what}: "${text}" is not a size; write it like 256MiB, 1GiB or 500MB`)
  const bytes = Math.round(Number(match[1]) * unit)
  if (bytes < 1) throw new UsageError(`${what}: the size must be at least one byte`)
  return bytes
}

export function formatBytes (bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`
  }
  return `${bytes} B`
}

/** The value of `--name value` or `--name=value`, if given. */
export function flag (args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === `--${name}`) {
      const value = args[i + 1]
      if (value == null || value.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      return value
    }
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3)
  }
  return undefined
}

/** Refuses flags a benchmark does not know, so a typo does not silently measure the default. */
export function checkFlags (args: string[], known: string[]): void {
  for (const arg of args) {
    if (!arg.startsWith('--')) continue
    const name = arg.slice(2).split('=')[0]!
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}; known: ${known.map(k => `--${k}`).join(', ')}`)
  }
}

/** Nearest-rank percentile (p in 0..100) of the samples. */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

export function formatMs (ms: number): string {
  return ms < 1 ? ms.toFixed(2) : ms.toFixed(1)
}

export function machine (): string {
  let model = cpus()[0]?.model ?? 'unknown CPU'
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find(l => l.startsWith('model name'))
    if (line != null) model = line.split(':')[1]!.trim()
  } catch { /* not Linux: os.cpus() is the next best thing */ }
  return `${model} (${cpus().length} cpus)`
}

/**
 * Peak resident memory of a process since the last reset, from /proc (Linux).
 * Resetting (writing 5 to clear_refs) lets a figure cover one phase, not the whole run.
 */
export function resetPeakRss (pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

export function peakRss (pid: number | 'self'): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib == null ? undefined : Number(kib) * 1024
  } catch {
    return pid === 'self' ? process.resourceUsage().maxRSS * 1024 : undefined
  }
}

/**
 * CPU seconds (user + system, all threads: GC and libuv workers included) a process has
 * used, from /proc. On a shared, noisy machine this is steadier than wall time.
 */
export function cpuSeconds (pid: number | 'self'): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}
const CLOCK_TICKS = 100

export interface Watchdog extends Disposable {
  readonly signal: AbortSignal
}

/**
 * Aborts when `progress()` has not changed for `stallMs`, when the step as a whole took
 * longer than `limitMs`, or when `also` aborts (e.g. the receiver process died).
 */
export function watchdog (what: string, init: { progress(): number, stallMs: number, limitMs: number, also?: AbortSignal }): Watchdog {
  const controller = new AbortController()
  const started = Date.now()
  let last = init.progress()
  let lastMoved = started
  const timer = setInterval(() => {
    const now = Date.now()
    const current = init.progress()
    if (current !== last) {
      last = current
      lastMoved = now
    }
    if (now - lastMoved > init.stallMs) {
      controller.abort(new BenchError(`${what} stalled: no progress for ${Math.round(init.stallMs / 1000)} s (at ${formatBytes(current)})`))
    } else if (now - started > init.limitMs) {
      controller.abort(new BenchError(`${what} took longer than its limit of ${Math.round(init.limitMs / 1000)} s`))
    }
  }, 500)
  const signal = init.also == null ? controller.signal : AbortSignal.any([controller.signal, init.also])
  return {
    signal,
    [Symbol.dispose]: () => { clearInterval(timer) }
  }
}

/** Rejects with the signal's reason as soon as it aborts. */
export async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** When a benchmark last removed its scratch directory. */
const REMOVED_AT = join(tmpdir(), 'aerie-bench-removed-at')
/**
 * ext4 without a journal does not reuse an inode freed in the last 60 s (5 minutes while its
 * inode table block is not yet written back), and making a file passes over every such inode of
 * its block group (`recently_deleted` was 65% of a profile): 20 000 files of 4 KiB took 4–5 s
 * to create within a minute of a benchmark removing its trees, and 0.8 s a minute and a half after.
 */
const INODES_REUSED_AFTER_MS = 75_000

/**
 * A benchmark's scratch directory. Ctrl-C, a kill or a crash must not leave gigabytes behind:
 * 'exit' also runs after an uncaught error and after process.exit, which the signal handlers
 * call. `remove()` deletes it and drops those handlers. One for a benchmark that times making
 * many files (`makesManyFiles`) is only made once the inodes the last benchmark freed are
 * reusable, so that its figures time the work rather than the file system's leftovers.
 */
export async function scratchDir (name: string, options: { makesManyFiles?: boolean } = {}): Promise<{ path: string, remove(): Promise<void> }> {
  if (options.makesManyFiles === true) await untilInodesReusable()
  const path = await mkdtemp(join(tmpdir(), `aerie-bench-${name}-`))
  const removeSync = (): void => {
    rmSync(path, { recursive: true, force: true })
    writeFileSync(REMOVED_AT, String(Date.now()))
  }
  const onSignal = (signal: NodeJS.Signals): void => { process.exit(signal === 'SIGINT' ? 130 : 143) }
  process.once('exit', removeSync)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    path,
    async remove () {
      await rm(path, { recursive: true, force: true })
      writeFileSync(REMOVED_AT, String(Date.now()))
      process.off('exit', removeSync)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

async function untilInodesReusable (): Promise<void> {
  let removedAt: number
  try {
    removedAt = Number(readFileSync(REMOVED_AT, 'utf8'))
  } catch {
    return
  }
  const wait = Math.min(INODES_REUSED_AFTER_MS, removedAt + INODES_REUSED_AFTER_MS - Date.now())
  if (!(wait > 0)) return
  console.error(`waiting ${(wait / 1000).toFixed(0)} s: the file system reuses the inodes the last benchmark freed only after a minute or so, and making files meanwhile is several times slower`)
  await new Promise(resolve => setTimeout(resolve, wait))
}
