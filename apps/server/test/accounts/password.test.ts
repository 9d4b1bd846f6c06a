import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '@aerie/core'
import { checkPasswordRule, hashPassword, needsRehash, verifyPassword } from '../../src/accounts/password.ts'

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple')
    expect(hash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true)
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false)
    expect(needsRehash(hash)).toBe(false)
  })

  it('salts every hash, so the same password never hashes the same twice', async () => {
    const [a, b] = await Promise.all([hashPassword('same password here'), hashPassword('same password here')])
    expect(a).not.toBe(b)
  })

  it('reads its cost from the hash, so older, cheaper hashes still verify and are marked for rehash', async () => {
    const cheap = await hashPassword('a long enough password', { ln: 10, r: 8, p: 1 })
    expect(await verifyPassword('a long enough password', cheap)).toBe(true)
    expect(needsRehash(cheap)).toBe(true)
  })

  it('refuses a damaged hash or one asking for an absurd cost, without throwing', async () => {
    const hash = await hashPassword('a long enough password')
    expect(await verifyPassword('a long enough password', hash.slice(0, -2))).toBe(false)
    expect(await verifyPassword('a long enough password', hash.replace('ln=15', 'ln=30'))).toBe(false)
    expect(await verifyPassword('a long enough password', 'plain-text')).toBe(false)
  })

  it('asks for 12 to 1024 characters', () => {
    expect(() => checkPasswordRule('short')).toThrow(InvalidInputError)
    expect(() => checkPasswordRule('x'.repeat(1025))).toThrow(/12 to 1024/)
    expect(() => checkPasswordRule('twelve chars')).not.toThrow()
  })
})
