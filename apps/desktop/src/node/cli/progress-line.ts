import { formatBytes } from '@aerie/core/basics'
import type { PullProgress } from '@aerie/core'

/** The live line `aerie run` draws while a folder syncs: on a terminal only, redrawn in place. */
export function progressLine (stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>, now: () => number = Date.now): { show(p: PullProgress): void, clear(): void } {
  let shown = false
  const started = new Map<string, { at: number, bytes: number }>()
  return {
    show (p) {
      if (!stream.isTTY) return
      const start = started.get(p.folder) ?? { at: now(), bytes: p.doneBytes }
      started.set(p.folder, start)
      const seconds = (now() - start.at) / 1000
      const rate = seconds > 0 ? (p.doneBytes - start.bytes) / seconds : 0
      const eta = rate > 0 ? Math.ceil((p.needBytes - p.doneBytes) / rate) : undefined
      const line = `${p.folder}: ${p.doneFiles}/${p.needFiles} items, ${formatBytes(p.doneBytes)}/${formatBytes(p.needBytes)}, ${formatBytes(rate)}/s${eta !== undefined ? `, ${eta} s left` : ''}`
      stream.write(`\r\x1b[K${line}`)
      shown = true
      if (p.doneFiles >= p.needFiles) started.delete(p.folder)
    },
    clear () {
      if (shown) stream.write('\r\x1b[K')
      shown = false
    }
  }
}

/** Local time with its UTC offset, to the second: readable, and `--at` takes it back. */
export function formatTime (date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
}
