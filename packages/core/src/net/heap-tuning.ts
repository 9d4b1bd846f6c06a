import { setFlagsFromString } from 'node:v8'

/**
 * Every byte an agent moves passes through a few short-lived Buffers (socket reads,
 * record sealing and opening). V8 counts them as external memory, and by default each
 * ~64 MiB of it starts a full mark-compact of the whole heap: dozens per GiB, which
 * cost more than the encryption itself (measured with `npm run bench -- transport`).
 * Counting external memory within V8's global heap limit instead lets the young
 * generation's cheap collections free those Buffers. Call once, early, in a process
 * that moves data (the agent, the team server, benchmarks).
 */
export function tuneHeapForTransfers (): void {
  setFlagsFromString('--external-memory-accounted-in-global-limit')
}

/**
 * The agent's V8 flags: a young generation of 8 MiB semi-spaces instead of V8's 16 MiB, which
 * V8 fills with garbage before it collects and then keeps. Measured with the benchmarks (peak
 * RSS of the sending and receiving agents, one run each): sync of 20 000 small files 213 and
 * 267 MiB instead of 339–353 and 363–407, of 1 GiB 190 and 283 instead of 271–289 and
 * 311–335, at the same speed; a first backup's agent 2.71 CPU-s instead of 2.54 (4 MiB cost
 * 3.0–3.1 there, so not smaller; the team server, mostly taking in backups, keeps V8's size).
 * V8 sizes its heap when the process starts, so they must be given then.
 */
export const AGENT_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8']

/**
 * Starts this process again in place (`process.execve`: the same pid, so signals and `kill`
 * reach it as before) with `flags`, unless it has them. Not where there is no execve
 * (Windows), under Electron (whose utilityProcess gets them as execArgv), or with an IPC
 * channel to a parent (it would not survive). Call it first, before anything is opened or printed.
 */
export function restartWithV8Flags (flags: readonly string[]): void {
  const missing = flags.filter(flag => !process.execArgv.includes(flag))
  if (missing.length === 0 || typeof process.execve !== 'function' || process.versions.electron !== undefined || process.channel !== undefined) return
  try {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env)
  } catch {
    // Runs on as it is: the flags save memory, and their absence loses nothing else.
  }
}
