import { open } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitFor } from '../../test/support/agents.ts'
import { digestOf, firstDifference, sha256, sizesOf } from './folder-trees.ts'
import { abortReason, BenchError, cpuSeconds, formatBytes, watchdog } from './measure.ts'
import type { AgentPair } from './agent-pair.ts'

/**
 * How the sync benchmark tells that the member has caught up: bounded waits on its log,
 * its status and its files, each failing with what the member was doing and what its
 * agent logged.
 */

/** CPU seconds (all threads) of each agent. */
export interface Cpu { owner?: number, member?: number }

/** How often the member's log is looked at for a finished pull while a cold sync runs. */
const POLL_MS = 20
/** How often the member's status is asked besides, for progress and a finish no pull logged. */
const STATUS_EVERY_MS = 2_000
/** How often the edited region is read back on the member. */
const EDIT_POLL_MS = 10
const EDIT_LIMIT_MS = 60_000
const STALL_MS = 60_000

/**
 * Waits until the member's status says in sync and its folder holds exactly `expected`, and
 * returns when that became true: the end of the member's last pull (its log says so as it
 * happens), or the status answer itself if no pull was logged. Status is asked after every
 * logged pull and every STATUS_EVERY_MS besides: on a big folder each answer costs the agent
 * a pass over its index, so asking often would slow down what is measured.
 */
export async function untilSame (pair: AgentPair, id: string, target: string, expected: Map<string, string>, sizes: Map<string, number>, bytes: number, since: number): Promise<{ at: number, cpu: Cpu, statusMs: number[], note?: string }> {
  let progress = 0
  using dog = watchdog('the sync', {
    progress: () => progress,
    stallMs: STALL_MS,
    // Generous: even 2 MB/s finishes in time; a slower run is broken, not slow.
    limitMs: 120_000 + bytes / 2e3 + sizes.size * 20,
    also: pair.failed
  })
  let note: string | undefined
  let last = 'no status yet'
  let asked = -Infinity
  let pullSeen: number | undefined
  const statusMs: number[] = []
  try {
    for (let polls = 0; polls < 10_000_000; polls++) {
      const pulled = pair.lastPull(pair.member)
      const newPull = pulled != null && pulled > since && pulled !== pullSeen
      if (newPull || performance.now() - asked >= STATUS_EVERY_MS) {
        pullSeen = pulled
        asked = performance.now()
        const status = await pair.status(pair.member)
        const answered = performance.now()
        const cpu = agentCpu(pair)
        statusMs.push(answered - asked)
        const view = status.folders.find(f => f.id === id)
        const bytesIn = status.peers.find(p => p.deviceId === pair.ownerId)?.bytesIn ?? 0
        progress = bytesIn + (view?.files ?? 0)
        last = view == null ? 'the folder is not set up' : `${view.state}, ${view.files} items, needs ${view.needFiles} (${formatBytes(view.needBytes)}), ${formatBytes(bytesIn)} received`
        if (view?.inSync === true && view.needFiles === 0 && view.state === 'idle') {
          const onDisk = await sizesOf(target).catch(() => undefined)
          if (onDisk != null && firstDifference(sizes, onDisk) == null) {
            const difference = firstDifference(expected, await digestOf(target))
            const at = pulled != null && pulled > since ? Math.min(pulled, answered) : answered
            if (difference == null) return { at, cpu, statusMs, ...(note != null ? { note } : {}) }
            note = `the member said in sync while ${difference}`
          }
        }
      }
      await sleep(POLL_MS, undefined, { signal: dog.signal })
    }
    throw new BenchError('the sync polled its limit of times')
  } catch (err) {
    const onDisk = await sizesOf(target).catch(() => new Map<string, number>())
    const error = abortReason(err, dog.signal, 'the sync')
    error.message += `; member: ${last}; ${firstDifference(sizes, onDisk) ?? 'sizes match'}${troubleText(pair)}`
    throw error
  }
}

/** Reads the edited region back until it arrived, then checks the whole file. */
export async function untilEdited (pair: AgentPair, path: string, region: Buffer, offset: number, hash: string): Promise<{ at: number, note?: string }> {
  const deadline = performance.now() + EDIT_LIMIT_MS
  const buffer = Buffer.alloc(region.byteLength)
  let note: string | undefined
  for (let polls = 0; polls < EDIT_LIMIT_MS / EDIT_POLL_MS * 2 && performance.now() < deadline; polls++) {
    pair.failed.throwIfAborted()
    if (await readRegion(path, buffer, offset)) {
      const at = performance.now()
      if (buffer.equals(region)) {
        if (await sha256(path, Infinity).catch(() => '') === hash) return { at, ...(note != null ? { note } : {}) }
        note = 'the edited region arrived before the rest of the file matched'
      }
    }
    await sleep(EDIT_POLL_MS)
  }
  throw new BenchError(`an edit did not reach the member within ${EDIT_LIMIT_MS / 1000} s${troubleText(pair)}`)
}

/** Both agents idle and the member in sync: the previous edit is over, watcher echoes included. */
export async function untilQuiet (pair: AgentPair, id: string): Promise<void> {
  await waitFor(async () => {
    const owner = await pair.folder(pair.owner, id)
    const member = await pair.folder(pair.member, id)
    return owner?.state === 'idle' && member?.state === 'idle' && member.inSync && member.needFiles === 0
  }, 'both agents to be idle and in sync', 60_000)
  // The member's watcher sees the puller's own rename ~100 ms later and scans it.
  await sleep(1_000)
}

async function readRegion (path: string, buffer: Buffer, offset: number): Promise<boolean> {
  try {
    const file = await open(path, 'r')
    try {
      return (await file.read(buffer, 0, buffer.byteLength, offset)).bytesRead === buffer.byteLength
    } finally {
      await file.close()
    }
  } catch {
    return false // between the version history's move and the rename into place
  }
}

function troubleText (pair: AgentPair): string {
  const lines = pair.troubles()
  return lines.length === 0 ? '' : `\nagent log lines that look like trouble:\n${lines.slice(-10).join('\n')}`
}

export function agentCpu (pair: AgentPair): Cpu {
  return { owner: cpuSeconds(pair.pid(pair.owner)), member: cpuSeconds(pair.pid(pair.member)) }
}

export function cpuBetween (before: Cpu, now: Cpu): Cpu {
  const minus = (a: number | undefined, b: number | undefined): number | undefined => a == null || b == null ? undefined : a - b
  return { owner: minus(now.owner, before.owner), member: minus(now.member, before.member) }
}
