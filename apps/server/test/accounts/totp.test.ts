import { describe, expect, it } from 'vitest'
import { base32Encode } from '@aerie/core'
import { decodeTotpSecret, matchTotp, newTotpSecret, totpCode, totpStep, totpUri } from '../../src/accounts/totp.ts'
import { tempMetadata } from '../fixtures.ts'

// RFC 6238, appendix B: the SHA-1 column, with the 20-byte ASCII seed "12345678901234567890".
const RFC_KEY = Buffer.from('12345678901234567890', 'ascii')
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130']
]

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors (SHA-1, 8 digits)', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(totpCode(RFC_KEY, totpStep(new Date(seconds * 1000)), 8)).toBe(code)
    }
  })

  it('uses the last six digits of the same values for 6-digit codes', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      expect(totpCode(RFC_KEY, totpStep(new Date(seconds * 1000)))).toBe(code.slice(-6))
    }
  })

  it('accepts a code one step either side of now, and no further', () => {
    const secret = base32Encode(RFC_KEY).toUpperCase()
    const now = new Date(1234567890_000)
    const step = totpStep(now)
    for (const offset of [-1, 0, 1]) expect(matchTotp(secret, totpCode(RFC_KEY, step + offset), now)).toBe(step + offset)
    for (const offset of [-2, 2]) expect(matchTotp(secret, totpCode(RFC_KEY, step + offset), now)).toBeUndefined()
    expect(matchTotp(secret, 'abcdef', now)).toBeUndefined()
    expect(matchTotp(secret, '1234567', now)).toBeUndefined()
  })

  it('makes 160-bit base32 secrets an authenticator app reads from an otpauth URI', () => {
    const secret = newTotpSecret()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(decodeTotpSecret(secret)).toHaveLength(20)
    const uri = new URL(totpUri({ secret, account: 'ada@example.org', issuer: 'Aerie (Example Org)' }))
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(decodeURIComponent(uri.pathname)).toBe('/Aerie (Example Org):ada@example.org')
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret, issuer: 'Aerie (Example Org)', algorithm: 'SHA1', digits: '6', period: '30' })
  })

  it('accepts each code once: a replayed or older code is refused', () => {
    using temp = tempMetadata()
    const { accounts } = temp.metadata
    accounts.createUser({ id: 'u1', email: 'ada@example.org', role: 'user', passwordHash: 'x', createdAt: new Date() })
    const step = totpStep(new Date())
    expect(accounts.useTotpStep('u1', step)).toBe(true)
    expect(accounts.useTotpStep('u1', step)).toBe(false)
    expect(accounts.useTotpStep('u1', step - 1)).toBe(false)
    expect(accounts.useTotpStep('u1', step + 1)).toBe(true)
  })
})
