import forge from 'node-forge'
import { fromBinaryString, toBinaryString } from './bytes.ts'

/** Small builders over forge.asn1 for the structures forge has no API for (CRLs, PKCS#8 encryption). */
const { asn1 } = forge
const UNIVERSAL = asn1.Class.UNIVERSAL

export type Asn1 = forge.asn1.Asn1

export function sequence (items: Asn1[]): Asn1 {
  return asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, items)
}

export function oid (dotted: string): Asn1 {
  return asn1.create(UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes())
}

export function octetString (bytes: Uint8Array): Asn1 {
  return asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, toBinaryString(bytes))
}

export function bitString (bytes: Uint8Array): Asn1 {
  // Leading 0: no unused bits in the last byte.
  return asn1.create(UNIVERSAL, asn1.Type.BITSTRING, false, '\x00' + toBinaryString(bytes))
}

export function nullValue (): Asn1 {
  return asn1.create(UNIVERSAL, asn1.Type.NULL, false, '')
}

export function boolean (value: boolean): Asn1 {
  return asn1.create(UNIVERSAL, asn1.Type.BOOLEAN, false, value ? '\xff' : '\x00')
}

/** A non-negative INTEGER, minimally encoded (a 00 byte only when the top bit would read as a sign). */
export function unsignedInteger (value: bigint): Asn1 {
  if (value < 0n) throw new RangeError('negative INTEGER')
  let hex = value.toString(16)
  if (hex.length % 2) hex = '0' + hex
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex
  return asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(hex))
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export function time (date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date))
}

export function contextPrimitive (tag: number, bytes: Uint8Array): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, toBinaryString(bytes))
}

export function contextExplicit (tag: number, inner: Asn1): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, [inner])
}

/** An already-encoded element, embedded as is (forge re-encodes DER it parsed byte for byte). */
export function raw (der: Uint8Array): Asn1 {
  return asn1.fromDer(toBinaryString(der), true)
}

export function toDer (node: Asn1): Uint8Array {
  return fromBinaryString(asn1.toDer(node).getBytes())
}

/** forge types declare valueTagClass as a Class, but it holds a Type; UTF8String lets names be any script. */
export const UTF8_STRING = asn1.Type.UTF8 as number as forge.asn1.Class

/** A subject attribute's text: forge hands UTF8String values back as undecoded bytes. */
export function attributeText (field: { value?: unknown, valueTagClass?: unknown } | null | undefined): string | undefined {
  if (typeof field?.value !== 'string') return undefined
  return field.valueTagClass === asn1.Type.UTF8 ? forge.util.decodeUtf8(field.value) : field.value
}

export const SHA256_WITH_RSA = '1.2.840.113549.1.1.11'

export function sha256WithRsaAlgorithm (): Asn1 {
  return sequence([oid(SHA256_WITH_RSA), nullValue()])
}

/** The DER of sha256WithRSAEncryption's AlgorithmIdentifier, to compare received documents against. */
export const SHA256_WITH_RSA_DER = toDer(sha256WithRsaAlgorithm())
