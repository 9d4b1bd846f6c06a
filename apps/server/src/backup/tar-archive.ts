/**
 * A POSIX tar archive (pax, as GNU tar, bsdtar and 7-Zip read it) written as a stream: what the
 * console gives for a directory of a snapshot (tar, not the share links' zip: a backup keeps
 * modes, symbolic links and empty directories, which that zip has no place for). Its exact length is known before the first byte,
 * so a download that stops short is seen as failed (Content-Length), and a damaged chunk ends the
 * stream with an error, never with a well-formed archive missing bytes.
 */
export interface TarEntry {
  /** '/'-separated, relative; a directory's without its trailing '/'. */
  path: string
  type: 'file' | 'dir' | 'symlink'
  /** Permission bits. */
  mode: number
  mtimeMs: number
  /** A file's bytes; 0 for the others. */
  size: number
  /** A symlink's target. */
  target?: string
  /** A file's bytes, opened when its turn comes. */
  content?: () => AsyncIterable<Uint8Array>
}

const BLOCK = 512
/** The largest size and time a ustar header's 12-byte octal field holds. */
const MAX_OCTAL_12 = 0o77777777777
const TYPE_FLAG = { file: '0', dir: '5', symlink: '2' } as const

/** The archive's length in bytes. */
export function tarSize (entries: readonly TarEntry[]): number {
  let bytes = 2 * BLOCK
  for (const entry of entries) {
    const pax = paxRecords(entry)
    if (pax !== undefined) bytes += BLOCK + padded(pax.byteLength)
    bytes += BLOCK + (entry.type === 'file' ? padded(entry.size) : 0)
  }
  return bytes
}

/** The archive, entry by entry; a file whose content is not `size` bytes ends it with an error. */
export async function * tarStream (entries: readonly TarEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    const pax = paxRecords(entry)
    if (pax !== undefined) {
      yield header({ name: 'PaxHeaders/entry', type: 'x', mode: 0o644, size: pax.byteLength, mtimeMs: entry.mtimeMs })
      yield withPadding(pax)
    }
    const name = entry.type === 'dir' ? `${entry.path}/` : entry.path
    yield header({ name, type: TYPE_FLAG[entry.type], mode: entry.mode & 0o7777, size: entry.type === 'file' ? entry.size : 0, mtimeMs: entry.mtimeMs, linkName: entry.target })
    if (entry.type !== 'file') continue
    let written = 0
    for await (const bytes of entry.content?.() ?? []) {
      written += bytes.byteLength
      if (written > entry.size) break
      yield bytes
    }
    if (written !== entry.size) throw new Error(`${entry.path} gave ${written} bytes, not its ${entry.size}: the archive stops here`)
    if (entry.size % BLOCK !== 0) yield Buffer.alloc(BLOCK - entry.size % BLOCK)
  }
  yield Buffer.alloc(2 * BLOCK)
}

/** The pax records an entry needs (a name or target a ustar header cannot hold, a size past its field), or undefined. */
function paxRecords (entry: TarEntry): Buffer | undefined {
  const records: string[] = []
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path
  if (!fitsUstar(name)) records.push(paxRecord('path', name))
  if (entry.target !== undefined && !fitsUstar(entry.target)) records.push(paxRecord('linkpath', entry.target))
  if (entry.size > MAX_OCTAL_12) records.push(paxRecord('size', String(entry.size)))
  return records.length === 0 ? undefined : Buffer.from(records.join(''))
}

/** ASCII that fits the 100-byte name field (the prefix field is not used: pax says it all). */
function fitsUstar (text: string): boolean {
  return text.length <= 100 && /^[\x20-\x7e]*$/.test(text)
}

/** "LEN key=value\n", where LEN counts the whole record, its own digits included. */
function paxRecord (key: string, value: string): string {
  const body = Buffer.byteLength(` ${key}=${value}\n`)
  let length = body
  // Bounded: the digits' count settles within two turns.
  for (let turn = 0; turn < 4 && length !== body + String(length).length; turn++) length = body + String(length).length
  return `${length} ${key}=${value}\n`
}

function header (fields: { name: string, type: string, mode: number, size: number, mtimeMs: number, linkName?: string }): Buffer {
  const block = Buffer.alloc(BLOCK)
  // A name the header cannot hold is in the pax record before it; this is only a fallback for old readers.
  block.write(asciiFallback(fields.name), 0, 100, 'latin1')
  octal(block, 100, 8, fields.mode)
  octal(block, 108, 8, 0)
  octal(block, 116, 8, 0)
  octal(block, 124, 12, Math.min(fields.size, MAX_OCTAL_12))
  octal(block, 136, 12, Math.min(Math.max(0, Math.floor(fields.mtimeMs / 1000)), MAX_OCTAL_12))
  block.write(fields.type, 156, 1, 'latin1')
  if (fields.linkName !== undefined) block.write(asciiFallback(fields.linkName), 157, 100, 'latin1')
  block.write('ustar\u000000', 257, 8, 'latin1')
  // The checksum is of the header with its own field as spaces.
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1')
  return block
}

function asciiFallback (text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(0, 100)
}

/** A zero-padded octal number and its NUL in a field of `width` bytes. */
function octal (block: Buffer, at: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, at, width, 'latin1')
}

function padded (bytes: number): number {
  return Math.ceil(bytes / BLOCK) * BLOCK
}

function withPadding (bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.alloc(padded(bytes.byteLength) - bytes.byteLength)])
}
