/**
 * A bandwidth limit shared by every stream in one direction: takers of bytes wait until the
 * rate allows them. A second's worth may go at once (burst); beyond it a taker runs into debt
 * and waits it off, so a chunk larger than the burst still goes, just later.
 */
export interface TokenBucketInit {
  /** Bytes per second; 0: no limit. */
  rate: number
  now?(): number
  sleep?(ms: number): Promise<void>
}

export interface TokenBucketStats {
  /** Bytes limited since the start, all of them. */
  bytes: number
  /** Bytes that had to wait, how many waits, and the milliseconds of waiting asked for. */
  delayedBytes: number
  waits: number
  waitedMs: number
  rate: number
}

export class TokenBucket {
  private rate = 0
  private tokens = 0
  private last: number
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly counters = { bytes: 0, delayedBytes: 0, waits: 0, waitedMs: 0 }

  constructor (init: TokenBucketInit) {
    this.now = init.now ?? Date.now
    this.sleep = init.sleep ?? (async (ms) => { await new Promise(resolve => setTimeout(resolve, ms)) })
    this.last = this.now()
    this.setRate(init.rate)
  }

  /** A new rate applies to the next take; the burst starts full again. */
  setRate (rate: number): void {
    this.rate = Math.max(0, Math.floor(rate))
    this.tokens = this.rate
    this.last = this.now()
  }

  async take (bytes: number): Promise<void> {
    this.counters.bytes += bytes
    if (this.rate === 0) return
    const at = this.now()
    this.tokens = Math.min(this.rate, this.tokens + (at - this.last) * this.rate / 1000)
    this.last = at
    this.tokens -= bytes
    if (this.tokens >= 0) return
    const ms = -this.tokens * 1000 / this.rate
    this.counters.delayedBytes += bytes
    this.counters.waits++
    this.counters.waitedMs += ms
    await this.sleep(ms)
  }

  stats (): TokenBucketStats {
    return { ...this.counters, waitedMs: Math.round(this.counters.waitedMs), rate: this.rate }
  }
}
