/**
 * Transfer rate and time left of a folder's running pull, from the progress it reports:
 * the bytes done over the last few seconds, so a stall shows as a falling rate instead of
 * an average that never moves. Pure: the clock is passed in.
 */
export interface TransferEstimate {
  bytesPerSecond: number
  /** Undefined while nothing moves: no honest guess is possible. */
  etaSeconds?: number
}

interface Sample { at: number, bytes: number }

const WINDOW_MS = 10_000

export class TransferRates {
  private readonly samples = new Map<string, Sample[]>()

  /** One progress report of `folder`'s pull: `doneBytes` of `needBytes`, at time `now` (ms). */
  record (folder: string, doneBytes: number, now: number): void {
    let list = this.samples.get(folder)
    // Fewer bytes done than before: a new pull started.
    if (list === undefined || (list.length > 0 && doneBytes < list.at(-1)!.bytes)) {
      list = []
      this.samples.set(folder, list)
    }
    list.push({ at: now, bytes: doneBytes })
    while (list.length > 2 && list[1]!.at <= now - WINDOW_MS) list.shift()
  }

  estimate (folder: string, needBytes: number, now: number): TransferEstimate | undefined {
    const list = this.samples.get(folder)
    if (list === undefined || list.length === 0) return undefined
    const first = list[0]!
    const last = list.at(-1)!
    // The rate falls while no report comes: `now`, not the last report, ends the window.
    const seconds = (now - first.at) / 1000
    if (seconds <= 0) return { bytesPerSecond: 0 }
    const bytesPerSecond = (last.bytes - first.bytes) / seconds
    if (bytesPerSecond <= 0) return { bytesPerSecond: 0 }
    return { bytesPerSecond, etaSeconds: Math.ceil(Math.max(0, needBytes - last.bytes) / bytesPerSecond) }
  }

  /** The pull ended: the next one starts from nothing. */
  forget (folder: string): void {
    this.samples.delete(folder)
  }
}
