import { createHmac, randomBytes } from 'node:crypto'
import { base32Decode, base32Encode } from '@aerie/core'

/**
 * TOTP (RFC 6238): HMAC-SHA-1, 30-second steps, 6 digits, accepting one step either side for
 * clock drift. Replay is refused by the caller recording the step a code matched
 * (AccountStore.useTotpStep), so each code works once.
 */

export const TOTP_PERIOD_S = 30
export const TOTP_DIGITS = 6

/** A new 160-bit secret, as authenticator apps expect it: upper-case base32 without padding. */
export function newTotpSecret (): string {
  return base32Encode(randomBytes(20)).toUpperCase()
}

export function decodeTotpSecret (secret: string): Uint8Array | undefined {
  return base32Decode(secret.replace(/[\s=]/g, '').toLowerCase())
}

export function totpStep (now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_S)
}

/** HOTP (RFC 4226) for one counter value: the code for TOTP step `step`. */
export function totpCode (key: Uint8Array, step: number, digits = TOTP_DIGITS): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', key).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0x0f
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits
  return binary.toString().padStart(digits, '0')
}

/** The step whose code `code` is (within ±1 step of `now`), or undefined. */
export function matchTotp (secret: string, code: string, now: Date): number | undefined {
  const key = decodeTotpSecret(secret)
  const typed = code.replace(/\s/g, '')
  if (key === undefined || !/^\d{6}$/.test(typed)) return undefined
  const step = totpStep(now)
  // Every candidate is computed, so the time taken does not say which one matched.
  let matched: number | undefined
  for (const candidate of [step - 1, step, step + 1]) {
    if (totpCode(key, candidate) === typed && matched === undefined) matched = candidate
  }
  return matched
}

/** The URI authenticator apps read from a QR code. */
export function totpUri ({ secret, account, issuer }: { secret: string, account: string, issuer: string }): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`
  const query = new URLSearchParams({ secret, issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD_S) })
  return `otpauth://totp/${label}?${query.toString()}`
}
