/**
 * The agent's recent log lines, kept in memory for the UI's Settings screen (the log itself
 * goes to stdout, where `aerie run`'s owner keeps it). Bounded: the oldest lines fall off.
 */
export interface LogLine {
  /** Grows by one per line for the life of the agent: the UI asks for lines after the last it has. */
  seq: number
  at: string
  text: string
}

export const LOG_LINES = 2000

export class LogRing {
  private readonly lines: LogLine[] = []
  private readonly max: number
  private next = 1

  constructor (max = LOG_LINES) {
    this.max = max
  }

  add (text: string, at = new Date()): void {
    this.lines.push({ seq: this.next++, at: at.toISOString(), text })
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max)
  }

  /** The lines after `seq` (all kept lines for 0), oldest first. */
  after (seq = 0): LogLine[] {
    const first = this.lines.findIndex(line => line.seq > seq)
    return first === -1 ? [] : this.lines.slice(first)
  }
}
