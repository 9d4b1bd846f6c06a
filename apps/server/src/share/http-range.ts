import { RangeNotSatisfiableError } from './errors.ts'

/** Bytes [start, end) of a file. */
export interface ByteRange { start: number, end: number }

/**
 * The one range a `Range` header asks of a file of `size` bytes (RFC 9110 §14): `bytes=N-M`,
 * open-ended `bytes=N-` or a suffix `bytes=-N`; undefined when there is no header. Several
 * ranges, another unit, bad syntax or a range wholly past the end are refused (416).
 */
export function parseRange (header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined
  const refuse = (why: string): never => { throw new RangeNotSatisfiableError(size, `${why}; this file has ${size} bytes`) }
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim())
  if (match === null) return refuse('send one range, like "bytes=0-1023", "bytes=1024-" or "bytes=-1024"')
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return refuse('the range names no bytes')
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return refuse('the range asks for no bytes')
    return { start: Math.max(0, size - suffix), end: size }
  }
  const start = Number(first)
  if (start >= size) return refuse(`the range starts at byte ${start}, past the end`)
  if (last === '') return { start, end: size }
  const end = Number(last)
  if (end < start) return refuse('the range ends before it starts')
  return { start, end: Math.min(end + 1, size) }
}
