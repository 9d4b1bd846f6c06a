import { randomBytes } from 'node:crypto'

/**
 * A random certificate serial as lowercase hex. The top two bits are fixed to 01 so it is positive,
 * minimally DER-encoded and always 32 hex digits, leaving 126 random bits.
 */
export function newCertificateSerial (): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x3f) | 0x40
  return bytes.toString('hex')
}

/** One spelling per serial (lowercase, no leading zeros) so certificates and CRLs compare equal. */
export function normaliseSerial (hex: string): string {
  const trimmed = hex.toLowerCase().replace(/^0+/, '')
  return trimmed === '' ? '0' : trimmed
}
