import { createHash, randomBytes } from 'node:crypto'
import { base32Encode } from '@aerie/core'

/**
 * Recovery codes: ten one-time codes that stand in for the TOTP code when the phone is lost.
 * Each carries 60 random bits, so a plain SHA-256 is enough to store it (nothing to brute-force).
 */

export const RECOVERY_CODE_COUNT = 10

/** `xxxx-xxxx-xxxx` in lower-case base32. */
export function newRecoveryCodes (count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const text = base32Encode(randomBytes(8)).slice(0, 12)
    return `${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8, 12)}`
  })
}

/** Looks like a recovery code rather than a TOTP code (the login form takes either). */
export function isRecoveryCodeShape (code: string): boolean {
  return /^[a-z2-7]{12}$/.test(normalise(code))
}

export function hashRecoveryCode (code: string): string {
  return createHash('sha256').update(`aerie-recovery-code:${normalise(code)}`).digest('hex')
}

// Forgiving of how people type: case, spaces and dashes do not matter.
function normalise (code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '')
}
