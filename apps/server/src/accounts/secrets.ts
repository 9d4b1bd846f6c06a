import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 random bits, URL-safe: session ids, CSRF tokens, login tickets, API tokens. */
export function newSecret (): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Bearer secrets are stored only as their SHA-256: a copy of the database opens no session.
 * (They are random 256-bit values, so a slow hash would add nothing.)
 */
export function hashSecret (secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

export function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(hashSecret(a), 'hex')
  const y = Buffer.from(hashSecret(b), 'hex')
  return timingSafeEqual(x, y)
}
