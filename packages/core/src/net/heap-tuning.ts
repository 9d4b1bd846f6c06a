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
