import { describe, expect, it } from 'vitest'
import { formatBytes } from '@aerie/core/basics'
import { progressLine } from '../src/node/cli/progress-line.ts'

// `aerie run` on a terminal redraws one line while a folder syncs: items, bytes, rate, time left.
describe('the progress line of aerie run', () => {
  const terminal = (isTTY: boolean) => {
    const written: string[] = []
    return { isTTY, written, write: (text: string) => { written.push(text); return true } }
  }

  it('redraws in place with items, bytes, rate and time left, and clears before a log line', () => {
    let clock = 0
    const out = terminal(true)
    const line = progressLine(out, () => clock)
    const progress = { folder: 'team', needFiles: 10, needBytes: 100 * 1024 * 1024, doneFiles: 0, doneBytes: 0, localBytes: 0, networkBytes: 0 }
    line.show(progress)
    clock = 2_000
    line.show({ ...progress, doneFiles: 4, doneBytes: 40 * 1024 * 1024 })
    expect(out.written.at(-1)).toBe('\r\x1b[Kteam: 4/10 items, 40.0 MiB/100.0 MiB, 20.0 MiB/s, 3 s left')
    line.clear()
    expect(out.written.at(-1)).toBe('\r\x1b[K')
  })

  it('writes nothing when the output is not a terminal (a log file gets log lines only)', () => {
    const out = terminal(false)
    progressLine(out).show({ folder: 'team', needFiles: 1, needBytes: 1, doneFiles: 0, doneBytes: 0, localBytes: 0, networkBytes: 0 })
    expect(out.written).toEqual([])
  })

  it('formats sizes in binary units', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(['0 B', '1023 B', '1.5 KiB', '5.0 GiB'])
  })
})
