import { crc32 } from 'node:zlib'

/**
 * A streamed ZIP archive (APPNOTE 6.3.x): entries stored as they are (no compression: shared
 * files are mostly compressed already, and storing streams at disk speed), each followed by a
 * data descriptor so its CRC-32 is computed while it streams, names in UTF-8 (flag bit 11), and
 * ZIP64 records where a size, an offset or the entry count passes what 32 bits hold. Nothing is
 * held in memory but the central directory.
 */

export interface ZipEntry {
  /** The entry's path inside the archive ('/'-separated). */
  name: string
  mtimeMs: number
  /** The size expected, to choose ZIP64 up front for a large file (the bytes streamed are what is recorded). */
  size: number
  data: () => AsyncIterable<Uint8Array>
}

export interface ZipOptions {
  /** 'always' writes ZIP64 records for every entry (tests use it to check them on small files). */
  zip64?: 'auto' | 'always'
}

const MAX32 = 0xffffffff
const MAX16 = 0xffff
const FLAGS = 0x0808 // bit 3: sizes and CRC in a data descriptor; bit 11: UTF-8 names
const UNIX_FILE = 0o100644

interface Written { name: Buffer, dosTime: number, dosDate: number, crc: number, size: number, offset: number, zip64: boolean }

export async function * zipStream (entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, options: ZipOptions = {}): AsyncGenerator<Uint8Array> {
  const written: Written[] = []
  let offset = 0
  for await (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8')
    if (name.byteLength > MAX16) throw new Error(`zip: the name ${entry.name.slice(0, 40)}… is too long for an archive`)
    const zip64 = options.zip64 === 'always' || entry.size >= MAX32
    const { dosTime, dosDate } = dosDateTime(entry.mtimeMs)
    const header = localHeader(name, dosTime, dosDate, zip64)
    const start = offset
    yield header
    offset += header.byteLength
    let crc = 0
    let size = 0
    for await (const chunk of entry.data()) {
      crc = crc32(chunk, crc)
      size += chunk.byteLength
      if (!zip64 && size >= MAX32) throw new Error(`zip: ${entry.name} grew past 4 GiB while it was archived; download again`)
      yield chunk
    }
    offset += size
    const descriptor = dataDescriptor(crc, size, zip64)
    yield descriptor
    offset += descriptor.byteLength
    written.push({ name, dosTime, dosDate, crc, size, offset: start, zip64 })
  }
  const cdStart = offset
  for (const entry of written) {
    const record = centralHeader(entry)
    yield record
    offset += record.byteLength
  }
  const cdSize = offset - cdStart
  const needs64 = options.zip64 === 'always' || written.length >= MAX16 || cdStart >= MAX32 || cdSize >= MAX32 || written.some(e => e.zip64)
  if (needs64) yield zip64End(written.length, cdSize, cdStart, offset)
  yield end(written.length, cdSize, cdStart)
}

function localHeader (name: Buffer, dosTime: number, dosDate: number, zip64: boolean): Buffer {
  const extra = zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0)
  const b = Buffer.alloc(30)
  b.writeUInt32LE(0x04034b50, 0)
  b.writeUInt16LE(zip64 ? 45 : 20, 4)
  b.writeUInt16LE(FLAGS, 6)
  b.writeUInt16LE(0, 8) // stored
  b.writeUInt16LE(dosTime, 10)
  b.writeUInt16LE(dosDate, 12)
  // CRC and sizes follow the data (bit 3); ZIP64 says so with all ones and its extra field.
  b.writeUInt32LE(0, 14)
  b.writeUInt32LE(zip64 ? MAX32 : 0, 18)
  b.writeUInt32LE(zip64 ? MAX32 : 0, 22)
  b.writeUInt16LE(name.byteLength, 26)
  b.writeUInt16LE(extra.byteLength, 28)
  return Buffer.concat([b, name, extra])
}

function dataDescriptor (crc: number, size: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16)
  b.writeUInt32LE(0x08074b50, 0)
  b.writeUInt32LE(crc, 4)
  if (zip64) {
    b.writeBigUInt64LE(BigInt(size), 8)
    b.writeBigUInt64LE(BigInt(size), 16)
  } else {
    b.writeUInt32LE(size, 8)
    b.writeUInt32LE(size, 12)
  }
  return b
}

function centralHeader (e: Written): Buffer {
  const bigOffset = e.offset >= MAX32
  const fields = [...(e.zip64 ? [e.size, e.size] : []), ...(bigOffset ? [e.offset] : [])]
  const extra = fields.length === 0 ? Buffer.alloc(0) : zip64Extra(fields)
  const b = Buffer.alloc(46)
  b.writeUInt32LE(0x02014b50, 0)
  b.writeUInt16LE((3 << 8) | 45, 4) // made by Unix, spec 4.5
  b.writeUInt16LE(e.zip64 || bigOffset ? 45 : 20, 6)
  b.writeUInt16LE(FLAGS, 8)
  b.writeUInt16LE(0, 10)
  b.writeUInt16LE(e.dosTime, 12)
  b.writeUInt16LE(e.dosDate, 14)
  b.writeUInt32LE(e.crc, 16)
  b.writeUInt32LE(e.zip64 ? MAX32 : e.size, 20)
  b.writeUInt32LE(e.zip64 ? MAX32 : e.size, 24)
  b.writeUInt16LE(e.name.byteLength, 28)
  b.writeUInt16LE(extra.byteLength, 30)
  b.writeUInt16LE(0, 32) // comment
  b.writeUInt16LE(0, 34) // disk
  b.writeUInt16LE(0, 36) // internal attributes
  b.writeUInt32LE((UNIX_FILE << 16) >>> 0, 38)
  b.writeUInt32LE(bigOffset ? MAX32 : e.offset, 42)
  return Buffer.concat([b, e.name, extra])
}

function zip64Extra (values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length)
  b.writeUInt16LE(0x0001, 0)
  b.writeUInt16LE(8 * values.length, 2)
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i))
  return b
}

function zip64End (count: number, cdSize: number, cdStart: number, recordAt: number): Buffer {
  const b = Buffer.alloc(56 + 20)
  b.writeUInt32LE(0x06064b50, 0)
  b.writeBigUInt64LE(44n, 4) // the record's size after this field
  b.writeUInt16LE((3 << 8) | 45, 12)
  b.writeUInt16LE(45, 14)
  b.writeUInt32LE(0, 16)
  b.writeUInt32LE(0, 20)
  b.writeBigUInt64LE(BigInt(count), 24)
  b.writeBigUInt64LE(BigInt(count), 32)
  b.writeBigUInt64LE(BigInt(cdSize), 40)
  b.writeBigUInt64LE(BigInt(cdStart), 48)
  // The locator: where the record above starts.
  b.writeUInt32LE(0x07064b50, 56)
  b.writeUInt32LE(0, 60)
  b.writeBigUInt64LE(BigInt(recordAt), 64)
  b.writeUInt32LE(1, 72)
  return b
}

function end (count: number, cdSize: number, cdStart: number): Buffer {
  const b = Buffer.alloc(22)
  b.writeUInt32LE(0x06054b50, 0)
  b.writeUInt16LE(Math.min(count, MAX16), 8)
  b.writeUInt16LE(Math.min(count, MAX16), 10)
  b.writeUInt32LE(Math.min(cdSize, MAX32), 12)
  b.writeUInt32LE(Math.min(cdStart, MAX32), 16)
  return b
}

/** MS-DOS time and date (local time, 2-second steps, 1980 to 2107), as ZIP headers keep them. */
function dosDateTime (ms: number): { dosTime: number, dosDate: number } {
  const d = new Date(Math.min(Math.max(ms, Date.UTC(1980, 0, 2)), Date.UTC(2107, 11, 30)))
  return {
    dosTime: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    dosDate: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate()
  }
}
