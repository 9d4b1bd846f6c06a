import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * A share link's token: 256 random bits, base64url (43 characters), so it sits in a URL path
 * as it is. The server keeps only its SHA-256: a copy of the database opens no link. (A random
 * 256-bit value needs no slow hash.)
 */

const TOKEN_BYTES = 32
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

export function newShareToken (): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

/** Whether `value` has a token's shape; anything else is refused before it is looked up. */
export function looksLikeShareToken (value: string): boolean {
  return TOKEN_SHAPE.test(value)
}

/** The token's SHA-256, hex: what the server stores and looks links up by. */
export function hashShareToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Whether `token` hashes to `tokenHash`, compared in constant time. */
export function tokenMatches (token: string, tokenHash: string): boolean {
  const actual = Buffer.from(hashShareToken(token), 'hex')
  const expected = Buffer.from(tokenHash, 'hex')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
