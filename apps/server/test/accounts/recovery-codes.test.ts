import { describe, expect, it } from 'vitest'
import { hashRecoveryCode, isRecoveryCodeShape, newRecoveryCodes } from '../../src/accounts/recovery-codes.ts'
import { tempMetadata } from '../fixtures.ts'

describe('recovery codes', () => {
  it('makes ten distinct codes that are easy to type', () => {
    const codes = newRecoveryCodes()
    expect(codes).toHaveLength(10)
    expect(new Set(codes).size).toBe(10)
    for (const code of codes) {
      expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
      expect(isRecoveryCodeShape(code)).toBe(true)
    }
    expect(isRecoveryCodeShape('123456')).toBe(false)
  })

  it('hashes forgivingly: case, spaces and dashes do not matter', () => {
    const [code] = newRecoveryCodes(1)
    expect(hashRecoveryCode(code!.toUpperCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(code!))
  })

  it('stores only hashes, and each code works once; a new set replaces the old one', () => {
    using temp = tempMetadata()
    const { accounts } = temp.metadata
    accounts.createUser({ id: 'u1', email: 'ada@example.org', role: 'user', passwordHash: 'x', createdAt: new Date() })
    const codes = newRecoveryCodes()
    accounts.replaceRecoveryCodes('u1', codes.map(hashRecoveryCode))
    expect(accounts.recoveryCodesLeft('u1')).toBe(10)
    expect(accounts.useRecoveryCode('u1', hashRecoveryCode(codes[3]!), new Date())).toBe(true)
    expect(accounts.useRecoveryCode('u1', hashRecoveryCode(codes[3]!), new Date())).toBe(false)
    expect(accounts.recoveryCodesLeft('u1')).toBe(9)

    const fresh = newRecoveryCodes()
    accounts.replaceRecoveryCodes('u1', fresh.map(hashRecoveryCode))
    expect(accounts.useRecoveryCode('u1', hashRecoveryCode(codes[0]!), new Date())).toBe(false)
    expect(accounts.recoveryCodesLeft('u1')).toBe(10)
  })
})
