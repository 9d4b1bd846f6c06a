import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { EnrollmentError, InvalidInputError } from '../errors.ts'
import { base32Decode, base32Encode } from './base32.ts'
import { bytesEqual, sha256, sha256Hex } from './bytes.ts'

/**
 * The one-time code a person types (or scans) on a new device: `aerie1-` then base32 of
 * version | secret | CA fingerprint prefix | addresses | checksum. The fingerprint lets the new
 * device recognise the right CA before it trusts it; the checksum catches typos before any network.
 */
export interface EnrollmentCode {
  secret: Uint8Array
  /** First 16 bytes of the CA certificate's sha256, as 32 lowercase hex characters. */
  caFingerprintPrefix: string
  /** Multiaddrs where the CA holder listens for enrollment. */
  addresses: string[]
}

const PREFIX = 'aerie1'
const VERSION = 1
const SECRET_BYTES = 16
const FINGERPRINT_BYTES = 16
const CHECKSUM_BYTES = 4
const MAX_ADDRESSES = 4
const MAX_CODE_LENGTH = 4096
const GROUP = 8

export function newEnrollmentSecret (): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES))
}

/** What the CA stores: never the secret itself. */
export function hashEnrollmentSecret (secret: Uint8Array): string {
  return sha256Hex(secret)
}

export function encodeEnrollmentCode (options: { secret: Uint8Array, caFingerprint: string, addresses: string[] }): string {
  const { secret, caFingerprint, addresses } = options
  if (!(secret instanceof Uint8Array) || secret.length !== SECRET_BYTES) throw new InvalidInputError(`the enrollment secret must be ${SECRET_BYTES} bytes`)
  if (typeof caFingerprint !== 'string' || !/^[0-9a-f]{64}$/i.test(caFingerprint)) {
    throw new InvalidInputError('the CA fingerprint must be 64 hex digits (the sha256 of the CA certificate)')
  }
  if (addresses.length > MAX_ADDRESSES) throw new InvalidInputError(`an enrollment code holds at most ${MAX_ADDRESSES} addresses; pick the ones the new device can reach`)
  const parts: Uint8Array[] = [Uint8Array.of(VERSION), secret, Buffer.from(caFingerprint.slice(0, FINGERPRINT_BYTES * 2), 'hex')]
  for (const address of addresses) {
    let bytes: Uint8Array
    try {
      bytes = multiaddr(address).bytes
    } catch (err) {
      throw new InvalidInputError(`"${address}" is not a multiaddr such as /ip4/192.0.2.10/tcp/4001`, { cause: err })
    }
    if (bytes.length > 255) throw new InvalidInputError(`the address "${address}" is too long for an enrollment code`)
    parts.push(Uint8Array.of(bytes.length), bytes)
  }
  const payload = Buffer.concat(parts)
  const body = base32Encode(Buffer.concat([payload, sha256(payload).subarray(0, CHECKSUM_BYTES)]))
  return `${PREFIX}-${body.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-')}`
}

/** Reads a code as typed: dashes, spaces and case do not matter; anything else wrong is an EnrollmentError. */
export function decodeEnrollmentCode (text: string): EnrollmentCode {
  const mistyped = (): EnrollmentError => new EnrollmentError(
    'this enrollment code is mistyped or incomplete; type it again exactly as shown (dashes and case do not matter), or ask your administrator for a new one')
  if (typeof text !== 'string' || text.length > MAX_CODE_LENGTH) throw mistyped()
  const compact = text.replace(/[\s-]/g, '').toLowerCase()
  if (!compact.startsWith(PREFIX)) throw mistyped()
  const bytes = base32Decode(compact.slice(PREFIX.length))
  if (bytes === undefined || bytes.length < 1 + SECRET_BYTES + FINGERPRINT_BYTES + CHECKSUM_BYTES) throw mistyped()
  const payload = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!bytesEqual(sha256(payload).subarray(0, CHECKSUM_BYTES), bytes.subarray(payload.length))) throw mistyped()
  if (payload[0] !== VERSION) {
    throw new EnrollmentError('this enrollment code was made by a newer version of Aerie; update Aerie on this device and try again')
  }
  let offset = 1
  const secret = payload.slice(offset, offset += SECRET_BYTES)
  const caFingerprintPrefix = Buffer.from(payload.subarray(offset, offset += FINGERPRINT_BYTES)).toString('hex')
  const addresses: string[] = []
  while (offset < payload.length) {
    const length = payload[offset++]!
    if (offset + length > payload.length || addresses.length === MAX_ADDRESSES) throw mistyped()
    const bytes = payload.subarray(offset, offset += length)
    try {
      const address = multiaddr(bytes)
      // Only the canonical encoding, so one code has one meaning.
      if (!bytesEqual(multiaddr(address.toString()).bytes, bytes)) throw new Error('non-canonical multiaddr')
      addresses.push(address.toString())
    } catch {
      throw mistyped()
    }
  }
  return { secret, caFingerprintPrefix, addresses }
}
