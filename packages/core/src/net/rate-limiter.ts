import { RateLimitedError } from '../errors.ts'

/**
 * A fixed-window counter per key (a client address). Small and bounded: keys that have
 * not been seen for a window are forgotten, and the table never grows past `maxKeys`.
 */
export class RateLimiter {
  private readonly limit: number
  private readonly windowMs: number
  private readonly maxKeys: number
  private readonly windows = new Map<string, { start: number, count: number }>()

  constructor (init: { limit: number, windowMs: number, maxKeys?: number }) {
    this.limit = init.limit
    this.windowMs = init.windowMs
    this.maxKeys = init.maxKeys ?? 10_000
  }

  /** Counts one attempt for `key`; throws RateLimitedError past the limit. */
  take (key: string, now = Date.now()): void {
    let window = this.windows.get(key)
    if (window == null || now - window.start >= this.windowMs) {
      if (this.windows.size >= this.maxKeys) this.evict(now)
      window = { start: now, count: 0 }
      this.windows.set(key, window)
    }
    window.count++
    if (window.count > this.limit) {
      const wait = Math.ceil((window.start + this.windowMs - now) / 1000)
      throw new RateLimitedError(`too many attempts from ${key}; try again in ${wait} s`)
    }
  }

  private evict (now: number): void {
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key)
    }
    // Still full: everyone is inside their window; drop the oldest rather than grow.
    if (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next().value
      if (oldest !== undefined) this.windows.delete(oldest)
    }
  }
}
