import type { LoginFailureStore } from '../metadata/stores.ts'
import { LoginLockedError } from './errors.ts'

/**
 * Failed sign-ins are counted per account and per client address. Too many in the window lock
 * that account or address for a while: guessing a password is slow from one place, and slow
 * for one account from many places. (The account lock lets someone keep a user out for a
 * while; an admin can still sign in from elsewhere, and the audit log shows who did it.)
 */

export interface ThrottlePolicy {
  accountFailures: number
  addressFailures: number
  windowMs: number
  lockoutMs: number
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  accountFailures: 5,
  addressFailures: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000
}

export interface LoginAttempt {
  /** The email the attempt named (known or not: unknown ones count the same, so they do not stand out). */
  account: string
  address: string
}

export interface LoginThrottle {
  /** Throws LoginLockedError while the account or the address is locked. */
  check (attempt: LoginAttempt, now: Date): void
  /** Counts a failure; returns the keys this failure locked (for the audit log). */
  failure (attempt: LoginAttempt, now: Date): string[]
  success (attempt: LoginAttempt): void
}

export function createLoginThrottle (store: LoginFailureStore, policy: ThrottlePolicy = DEFAULT_THROTTLE): LoginThrottle {
  const keys = ({ account, address }: LoginAttempt): Array<{ key: string, limit: number }> => [
    { key: `account:${account.toLowerCase()}`, limit: policy.accountFailures },
    { key: `address:${address}`, limit: policy.addressFailures }
  ]
  let lastPrune = 0
  return {
    check (attempt, now) {
      for (const { key } of keys(attempt)) {
        const until = store.lockedUntil(key)
        if (until !== undefined && until > now) {
          const retryAfterMs = until.getTime() - now.getTime()
          const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000))
          throw new LoginLockedError(`too many failed sign-ins; try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or ask an administrator`, retryAfterMs)
        }
      }
    },
    failure (attempt, now) {
      if (now.getTime() - lastPrune > policy.windowMs) {
        store.prune(new Date(now.getTime() - Math.max(policy.windowMs, policy.lockoutMs)))
        lastPrune = now.getTime()
      }
      const locked: string[] = []
      for (const { key, limit } of keys(attempt)) {
        store.recordFailure(key, now)
        if (store.failuresSince(key, new Date(now.getTime() - policy.windowMs)) >= limit) {
          store.lock(key, new Date(now.getTime() + policy.lockoutMs))
          store.clearFailures(key)
          locked.push(key)
        }
      }
      return locked
    },
    success (attempt) {
      store.clearFailures(keys(attempt)[0]!.key)
    }
  }
}
