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
 * V8 flags for a process that runs for long and moves data (the agent, the team server): a
 * young generation of 4 MiB semi-spaces instead of V8's 16 MiB, which V8 fills with garbage
 * before it collects and then keeps. Measured with `npm run bench -- sync` (peak RSS of the
 * sending and receiving agents): 20 000 small files 228 and 263 MiB instead of 339 and 363,
 * 1 GiB 158–174 and 271–286 MiB instead of 271–273 and 311–326, at the same speed and CPU.
 * V8 sizes its heap when the process starts, so they must be given then.
 */
export const TRANSFER_PROCESS_FLAGS: readonly string[] = ['--max-semi-space-size=4']

/**
 * Starts this process again in place (`process.execve`: the same pid, so signals and `kill`
 * reach it as before) with TRANSFER_PROCESS_FLAGS, unless it has them. Not where there is no
 * execve (Windows) or under Electron (whose utilityProcess gets them as execArgv). Call it first,
 * before anything is opened or printed.
 */
export function restartWithTransferFlags (): void {
  const missing = TRANSFER_PROCESS_FLAGS.filter(flag => !process.execArgv.includes(flag))
  if (missing.length === 0 || typeof process.execve !== 'function' || process.versions.electron !== undefined) return
  process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)], process.env)
}
