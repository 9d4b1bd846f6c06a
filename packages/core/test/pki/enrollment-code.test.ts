import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { EnrollmentError, InvalidInputError } from '../../src/errors.ts'
import { decodeEnrollmentCode, encodeEnrollmentCode, hashEnrollmentSecret, newEnrollmentSecret } from '../../src/pki/index.ts'

const FINGERPRINT = createHash('sha256').update('a CA certificate').digest('hex')
const ADDRESSES = ['/ip4/192.168.1.20/tcp/4001', '/ip6/fe80::1/tcp/4001', '/dns4/ca.example.org/tcp/4001']
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

describe('enrollment codes', () => {
  const secret = newEnrollmentSecret()
  const code = encodeEnrollmentCode({ secret, caFingerprint: FINGERPRINT, addresses: ADDRESSES })

  it('round-trips the secret, the CA fingerprint prefix and the addresses', () => {
    expect(decodeEnrollmentCode(code)).toEqual({ secret, caFingerprintPrefix: FINGERPRINT.slice(0, 32), addresses: ADDRESSES })
    const bare = encodeEnrollmentCode({ secret, caFingerprint: FINGERPRINT.toUpperCase(), addresses: [] })
    expect(decodeEnrollmentCode(bare).addresses).toEqual([])
  })

  it('reads as groups of eight lowercase characters after aerie1-', () => {
    expect(code).toMatch(/^aerie1(-[a-z2-7]{1,8})+$/)
    expect(code.split('-').slice(1, -1).every(group => group.length === 8)).toBe(true)
  })

  it('ignores dashes, spaces, line breaks and case as typed', () => {
    const body = code.replaceAll('-', '')
    const typed = ` ${body.toUpperCase().replace(/(.{5})/g, '$1 ')}\n`
    expect(decodeEnrollmentCode(typed).secret).toEqual(secret)
    expect(decodeEnrollmentCode(body).secret).toEqual(secret)
  })

  it('catches every one-character typo', () => {
    const start = 'aerie1-'.length
    for (let i = start; i < code.length; i++) {
      if (code[i] === '-') continue
      const wrong = ALPHABET[(ALPHABET.indexOf(code[i]!) + 1 + (i % 31)) % 32]!
      const typo = code.slice(0, i) + wrong + code.slice(i + 1)
      expect(() => decodeEnrollmentCode(typo), `position ${i}`).toThrow(EnrollmentError)
    }
  })

  it('catches a dropped, an added and a swapped character', () => {
    expect(() => decodeEnrollmentCode(code.slice(0, -1))).toThrow(EnrollmentError)
    expect(() => decodeEnrollmentCode(code + 'a')).toThrow(EnrollmentError)
    const i = code.search(/[a-z2-7]{2}$/)
    const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2)
    if (swapped !== code) expect(() => decodeEnrollmentCode(swapped)).toThrow(EnrollmentError)
    expect(() => decodeEnrollmentCode(code.replace('aerie1', 'aerie2'))).toThrow(/mistyped or incomplete/)
  })

  it('refuses what cannot be put in a code', () => {
    expect(() => encodeEnrollmentCode({ secret: new Uint8Array(15), caFingerprint: FINGERPRINT, addresses: [] })).toThrow(InvalidInputError)
    expect(() => encodeEnrollmentCode({ secret, caFingerprint: 'abc', addresses: [] })).toThrow(InvalidInputError)
    expect(() => encodeEnrollmentCode({ secret, caFingerprint: FINGERPRINT, addresses: ['not an address'] })).toThrow(InvalidInputError)
    const five = Array.from({ length: 5 }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001`)
    expect(() => encodeEnrollmentCode({ secret, caFingerprint: FINGERPRINT, addresses: five })).toThrow(/at most 4/)
  })

  it('makes fresh 16-byte secrets and stores only their hash', () => {
    const a = newEnrollmentSecret()
    expect(a).toHaveLength(16)
    expect(a).not.toEqual(newEnrollmentSecret())
    expect(hashEnrollmentSecret(a)).toBe(createHash('sha256').update(a).digest('hex'))
  })
})
