import { readdirSync, statSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { keyringFiles, openPackStore, unlockWithLocalSecret } from '@aerie/core'
import { abortReason, BenchError, cpuSeconds, formatBytes, peakRss, resetPeakRss, watchdog } from './measure.ts'
import type { ChunkStoreStats } from '@aerie/core'
import type { ServerAndAgent } from './server-agent.ts'

/**
 * How the server benchmark tells that the server has taken a folder in: its own log, which
 * says when the agent connected and, as each pull ends, how many items it kept and how many
 * bytes it fetched. Times come from the log's timestamps (the server's clock, to the ms), so
 * polling adds nothing to them; CPU and peak RSS are read as each line is first seen.
 */
export interface Ingest {
  /** From the server's "connected to" line to its last "kept" line. */
  s: number
  /** Chunk bytes the server fetched from the agent, and those it already had. */
  networkBytes: number
  localBytes: number
  /** CPU seconds between those two lines, and peak RSS (VmHWM reset at the connection). */
  serverCpu: number | undefined
  agentCpu: number | undefined
  serverRss: number | undefined
  agentRss: number | undefined
  rssSince: string
}

const POLL_MS = 20
const STALL_MS = 60_000
const CONNECTED = / connected to bench-agent /
const KEPT = /^(\S+) folder (\S+): kept (\d+) of (\d+) items, (\d+) bytes from members, (\d+) already stored(?:, (\d+) not yet)?$/gm

/**
 * Waits until the server, started at log offset `from`, has kept all `items` of folder `id`
 * (pulls summed: a pull that ends early is followed by another), with nothing left "not yet".
 */
export async function untilKept (setup: ServerAndAgent, id: string, items: number, bytes: number, from: number): Promise<Ingest> {
  const { server } = setup
  const dataDir = server.dataDir
  using dog = watchdog(`the server's ingest of folder ${id}`, {
    progress: () => packBytes(dataDir) + server.log.length,
    stallMs: STALL_MS,
    // Generous: even 2 MB/s finishes in time; a slower run is broken, not slow.
    limitMs: 120_000 + bytes / 2e3,
    also: setup.failed
  })
  let connected: { at: number, server?: number, agent?: number, rssSince: string } | undefined
  try {
    for (let polls = 0; polls < 10_000_000; polls++) {
      const log = server.log.slice(from)
      if (connected == null) {
        const line = log.split('\n').find(l => CONNECTED.test(l))
        if (line != null) {
          const reset = resetPeakRss(setup.serverPid()) && resetPeakRss(setup.agentPid())
          connected = {
            at: Date.parse(line.split(' ')[0]!),
            server: cpuSeconds(setup.serverPid()),
            agent: cpuSeconds(setup.agentPid()),
            rssSince: reset ? 'from the connection' : 'whole process life (could not reset)'
          }
        }
      }
      let done = 0
      let networkBytes = 0
      let localBytes = 0
      let last: RegExpExecArray | undefined
      for (const match of log.matchAll(KEPT)) {
        if (match[2] !== id) continue
        done += Number(match[3])
        networkBytes += Number(match[5])
        localBytes += Number(match[6])
        last = match
      }
      if (connected != null && last != null && done >= items && last[7] == null) {
        const minus = (now: number | undefined, then: number | undefined): number | undefined => now == null || then == null ? undefined : now - then
        return {
          s: (Date.parse(last[1]!) - connected.at) / 1000,
          networkBytes,
          localBytes,
          serverCpu: minus(cpuSeconds(setup.serverPid()), connected.server),
          agentCpu: minus(cpuSeconds(setup.agentPid()), connected.agent),
          serverRss: peakRss(setup.serverPid()),
          agentRss: peakRss(setup.agentPid()),
          rssSince: connected.rssSince
        }
      }
      await sleep(POLL_MS, undefined, { signal: dog.signal })
    }
    throw new BenchError('the ingest polled its limit of times')
  } catch (err) {
    const error = abortReason(err, dog.signal, `the server's ingest of folder ${id}`)
    error.message += `; ${connected == null ? 'the agent never connected' : 'the agent connected'}; ${formatBytes(packBytes(dataDir))} in packs\n${setup.logTails()}`
    throw error
  }
}

/** Bytes of the pack files on disk (synchronous: the watchdog asks a few times a second, the store has few files). */
export function packBytes (dataDir: string): number {
  let total = 0
  try {
    for (const entry of readdirSync(join(dataDir, 'store', 'packs'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.pack')) total += statSync(join(entry.parentPath, entry.name)).size
    }
  } catch { /* no store yet */ }
  return total
}

export interface StoreFigures extends ChunkStoreStats {
  /** The chunk index (chunks.db with its WAL), which storedBytes leaves out. */
  indexBytes: number
  packBytes: number
}

/** The store's own figures, read with the server stopped (the store is opened by one process at a time). */
export async function storeFigures (dataDir: string): Promise<StoreFigures> {
  const dataKey = await unlockWithLocalSecret(keyringFiles(join(dataDir, 'keys')))
  const store = await openPackStore({ dir: join(dataDir, 'store'), dataKey })
  let stats: ChunkStoreStats
  try {
    stats = await store.stats()
  } finally {
    await store.close()
  }
  let indexBytes = 0
  for (const name of ['chunks.db', 'chunks.db-wal']) indexBytes += (await stat(join(dataDir, 'store', name)).catch(() => undefined))?.size ?? 0
  return { ...stats, indexBytes, packBytes: packBytes(dataDir) }
}
