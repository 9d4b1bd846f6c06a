import { crc32 } from 'node:zlib'

/**
 * A small ZIP reader for tests: finds the central directory (through the ZIP64 locator when
 * there is one), reads each stored entry from its local header and checks its CRC-32 and its
 * data descriptor. It throws on anything it does not expect, so a test fails loudly.
 */
export interface ReadEntry { name: string, data: Buffer, utf8: boolean, zip64: boolean }

export function readZip (zip: Buffer): ReadEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (eocd < 0) throw new Error('zip: no end of central directory')
  let count = zip.readUInt16LE(eocd + 10)
  let cdStart = zip.readUInt32LE(eocd + 16)
  const locator = eocd - 20
  if (locator >= 0 && zip.readUInt32LE(locator) === 0x07064b50) {
    const record = Number(zip.readBigUInt64LE(locator + 8))
    if (zip.readUInt32LE(record) !== 0x06064b50) throw new Error('zip: the ZIP64 locator points at no ZIP64 record')
    count = Number(zip.readBigUInt64LE(record + 32))
    cdStart = Number(zip.readBigUInt64LE(record + 48))
  }
  const entries: ReadEntry[] = []
  let p = cdStart
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`zip: no central header at ${p}`)
    const flags = zip.readUInt16LE(p + 8)
    if (zip.readUInt16LE(p + 10) !== 0) throw new Error('zip: a compressed entry')
    const crc = zip.readUInt32LE(p + 16)
    let size = zip.readUInt32LE(p + 24)
    const nameLength = zip.readUInt16LE(p + 28)
    const extraLength = zip.readUInt16LE(p + 30)
    let offset = zip.readUInt32LE(p + 42)
    const name = zip.subarray(p + 46, p + 46 + nameLength).toString('utf8')
    const extra = zip.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength)
    let zip64 = false
    for (let e = 0; e < extra.byteLength;) {
      const id = extra.readUInt16LE(e)
      const length = extra.readUInt16LE(e + 2)
      if (id === 1) {
        zip64 = true
        let q = e + 4
        if (size === 0xffffffff) { size = Number(extra.readBigUInt64LE(q)); q += 16 }
        if (offset === 0xffffffff) offset = Number(extra.readBigUInt64LE(q))
      }
      e += 4 + length
    }
    if (zip.readUInt32LE(offset) !== 0x04034b50) throw new Error(`zip: no local header for ${name}`)
    const dataStart = offset + 30 + zip.readUInt16LE(offset + 26) + zip.readUInt16LE(offset + 28)
    const data = zip.subarray(dataStart, dataStart + size)
    if (crc32(data) !== crc) throw new Error(`zip: CRC of ${name} does not match`)
    const descriptor = dataStart + size
    if (zip.readUInt32LE(descriptor) !== 0x08074b50 || zip.readUInt32LE(descriptor + 4) !== crc) throw new Error(`zip: bad data descriptor for ${name}`)
    const described = zip64 ? Number(zip.readBigUInt64LE(descriptor + 16)) : zip.readUInt32LE(descriptor + 12)
    if (described !== size) throw new Error(`zip: the descriptor of ${name} gives another size`)
    entries.push({ name, data: Buffer.from(data), utf8: (flags & 0x800) !== 0, zip64 })
    p += 46 + nameLength + extraLength + zip.readUInt16LE(p + 32)
  }
  return entries
}
