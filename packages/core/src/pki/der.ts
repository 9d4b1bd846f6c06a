/**
 * A minimal strict DER reader. Signatures must be checked over the exact bytes received, so this
 * hands out byte slices rather than re-encoding a parsed tree. Throws plain errors; callers wrap
 * them in the typed error for the document they were reading.
 */
export interface DerNode {
  readonly tag: number
  /** The whole element: tag, length and content. */
  readonly bytes: Uint8Array
  readonly content: Uint8Array
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0: 0xa0
} as const

function readNode (buf: Uint8Array, offset: number): DerNode {
  if (offset + 2 > buf.length) throw new Error('truncated DER element')
  const tag = buf[offset]!
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not used here')
  let length = buf[offset + 1]!
  let header = 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4) throw new Error('unsupported DER length')
    if (offset + 2 + count > buf.length) throw new Error('truncated DER length')
    if (buf[offset + 2] === 0) throw new Error('non-minimal DER length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!
    if (length < 0x80) throw new Error('non-minimal DER length')
    header += count
  }
  const end = offset + header + length
  if (end > buf.length) throw new Error('truncated DER content')
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(offset + header, end) }
}

/** Exactly one element filling `buf`. */
export function parseDer (buf: Uint8Array): DerNode {
  const node = readNode(buf, 0)
  if (node.bytes.length !== buf.length) throw new Error('trailing bytes after DER element')
  return node
}

export function children (node: DerNode, tag?: number): DerNode[] {
  if (!(node.tag & 0x20)) throw new Error('expected a constructed DER element')
  if (tag !== undefined && node.tag !== tag) throw new Error(`expected DER tag ${tag}, got ${node.tag}`)
  const out: DerNode[] = []
  let offset = 0
  while (offset < node.content.length) {
    const child = readNode(node.content, offset)
    out.push(child)
    offset += child.bytes.length
  }
  return out
}

export function expectTag (node: DerNode | undefined, tag: number): DerNode {
  if (node === undefined) throw new Error(`missing DER element with tag ${tag}`)
  if (node.tag !== tag) throw new Error(`expected DER tag ${tag}, got ${node.tag}`)
  return node
}

/** A non-negative INTEGER as a bigint; rejects negative and non-minimal encodings. */
export function readUnsignedInteger (node: DerNode): bigint {
  const bytes = expectTag(node, TAG.INTEGER).content
  if (bytes.length === 0) throw new Error('empty INTEGER')
  if (bytes[0]! & 0x80) throw new Error('negative INTEGER')
  if (bytes.length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) throw new Error('non-minimal INTEGER')
  return BigInt('0x' + Buffer.from(bytes).toString('hex'))
}

/** UTCTime or GeneralizedTime in the single form RFC 5280 allows (seconds, 'Z'). */
export function readTime (node: DerNode): Date {
  const text = Buffer.from(node.content).toString('latin1')
  let match: RegExpMatchArray | null
  let year: number
  if (node.tag === TAG.UTC_TIME && (match = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    const yy = Number(match[1])
    year = yy >= 50 ? 1900 + yy : 2000 + yy
  } else if (node.tag === TAG.GENERALIZED_TIME && (match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(text))) {
    year = Number(match[1])
  } else {
    throw new Error('malformed time')
  }
  const [month, day, hour, minute, second] = match.slice(2, 7).map(Number) as [number, number, number, number, number]
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new Error('invalid date')
  }
  return date
}

/** A BIT STRING's bytes; signatures and keys never have unused bits. */
export function readBitString (node: DerNode | undefined): Uint8Array {
  const content = expectTag(node, TAG.BIT_STRING).content
  if (content.length < 1 || content[0] !== 0) throw new Error('BIT STRING with unused bits')
  return content.subarray(1)
}
