import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { InvalidInputError } from '@aerie/core'

/**
 * Password hashing with scrypt. The encoded hash names its parameters
 * (`scrypt$ln=15,r=8,p=1$<salt>$<hash>`, base64url), so the cost can be raised later and old
 * hashes still verify.
 */

export const PASSWORD_RULE = 'must be 12 to 1024 characters'
const DEFAULT_COST = { ln: 15, r: 8, p: 1 }
const KEY_LENGTH = 32
// A hard ceiling on what a stored hash may ask for, so a planted hash cannot exhaust memory.
const MAX_LN = 20

export interface ScryptCost { ln: number, r: number, p: number }

export function checkPasswordRule (password: string): void {
  if (password.length < 12 || password.length > 1024) throw new InvalidInputError(`the password ${PASSWORD_RULE}; a passphrase of a few words is easiest`)
}

export async function hashPassword (password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16)
  const hash = await derive(password, salt, cost)
  return `scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/** False for a wrong password and for a hash this code cannot read; never throws on either. */
export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const match = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/.exec(encoded)
  if (match === null) return false
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  if (cost.ln < 10 || cost.ln > MAX_LN || cost.r < 1 || cost.p < 1) return false
  const expected = Buffer.from(match[5]!, 'base64url')
  const actual = await derive(password, Buffer.from(match[4]!, 'base64url'), cost)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** True when a hash was made with less than today's cost (rehash it at the next successful login). */
export function needsRehash (encoded: string): boolean {
  return !encoded.startsWith(`scrypt$ln=${DEFAULT_COST.ln},r=${DEFAULT_COST.r},p=${DEFAULT_COST.p}$`)
}

function derive (password: string, salt: Buffer, { ln, r, p }: ScryptCost): Promise<Buffer> {
  const N = 2 ** ln
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; Node's default ceiling (32 MiB) is exactly too small for N=2^15, r=8.
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r }, (err, key) => {
      if (err === null) resolve(key)
      else reject(err)
    })
  })
}
