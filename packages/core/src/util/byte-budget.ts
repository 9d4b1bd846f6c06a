/** Bytes in memory at once: takers wait their turn, except that one may always go when none is out. */
export class ByteBudget {
  private used = 0
  private readonly waiting: Array<{ size: number, go: () => void }> = []
  private readonly max: number

  constructor (max: number) {
    this.max = max
  }

  async take (size: number): Promise<void> {
    if (this.waiting.length === 0 && (this.used === 0 || this.used + size <= this.max)) {
      this.used += size
      return
    }
    await new Promise<void>(resolve => { this.waiting.push({ size, go: resolve }) })
  }

  /** Takes `size` only if it fits now (never waits): for optional work such as reading ahead. */
  tryTake (size: number): boolean {
    if (this.waiting.length > 0 || (this.used !== 0 && this.used + size > this.max)) return false
    this.used += size
    return true
  }

  give (size: number): void {
    this.used -= size
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!
      if (this.used !== 0 && this.used + next.size > this.max) break
      this.waiting.shift()
      this.used += next.size
      next.go()
    }
  }
}
