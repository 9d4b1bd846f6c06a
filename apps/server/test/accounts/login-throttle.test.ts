import { describe, expect, it } from 'vitest'
import { RateLimitedError } from '@aerie/core'
import { LoginLockedError } from '../../src/accounts/errors.ts'
import { createLoginThrottle } from '../../src/accounts/login-throttle.ts'
import { tempMetadata } from '../fixtures.ts'

const POLICY = { accountFailures: 3, addressFailures: 5, windowMs: 60_000, lockoutMs: 300_000 }
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)

describe('login throttle', () => {
  it('locks an account after N failures in the window, with the time left to wait', () => {
    using temp = tempMetadata()
    const throttle = createLoginThrottle(temp.metadata.loginFailures, POLICY)
    const attempt = { account: 'ada@example.org', address: '10.0.0.1' }
    expect(throttle.failure(attempt, at(0))).toEqual([])
    expect(throttle.failure(attempt, at(1000))).toEqual([])
    expect(throttle.failure(attempt, at(2000))).toEqual(['account:ada@example.org'])
    let error: unknown
    try { throttle.check({ account: 'ADA@example.org', address: '10.9.9.9' }, at(3000)) } catch (err) { error = err }
    expect(error).toBeInstanceOf(LoginLockedError)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect((error as LoginLockedError).code).toBe('ERR_RATE_LIMITED')
    expect((error as LoginLockedError).retryAfterMs).toBe(299_000)
    expect((error as Error).message).toMatch(/try again in 5 minutes/)
    // The lock ends by itself.
    expect(() => throttle.check(attempt, at(302_001))).not.toThrow()
  })

  it('forgets failures outside the window and after a success', () => {
    using temp = tempMetadata()
    const throttle = createLoginThrottle(temp.metadata.loginFailures, POLICY)
    const attempt = { account: 'ada@example.org', address: '10.0.0.1' }
    throttle.failure(attempt, at(0))
    throttle.failure(attempt, at(1000))
    expect(throttle.failure(attempt, at(70_000))).toEqual([])
    throttle.success(attempt)
    throttle.failure(attempt, at(71_000))
    expect(throttle.failure(attempt, at(72_000))).toEqual([])
    expect(() => throttle.check(attempt, at(73_000))).not.toThrow()
  })

  it('locks an address that tries many accounts', () => {
    using temp = tempMetadata()
    const throttle = createLoginThrottle(temp.metadata.loginFailures, POLICY)
    const locked = Array.from({ length: 5 }, (_, i) => throttle.failure({ account: `user${i}@example.org`, address: '10.0.0.7' }, at(i))).flat()
    expect(locked).toEqual(['address:10.0.0.7'])
    expect(() => throttle.check({ account: 'new@example.org', address: '10.0.0.7' }, at(10))).toThrow(LoginLockedError)
    expect(() => throttle.check({ account: 'new@example.org', address: '10.0.0.8' }, at(10))).not.toThrow()
  })
})
