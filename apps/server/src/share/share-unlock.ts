import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createLoginThrottle } from '../accounts/login-throttle.ts'
import type { LoginThrottle, ThrottlePolicy } from '../accounts/login-throttle.ts'
import { newSecret } from '../accounts/secrets.ts'
import type { AccountStore, LoginFailureStore, ShareLinkRecord } from '../metadata/stores.ts'

/**
 * A password-protected link: the right password sets a cookie for that link's path only
 * (HttpOnly, SameSite=Strict), holding its expiry signed with the server's share key, so the
 * password is checked (scrypt) once and not on every download. Wrong passwords count per link
 * and per client address, through the sign-in throttle over the same failure table (keys
 * prefixed `share:`), so guessing is slow from one place and for one link from many.
 */

export const SHARE_THROTTLE: ThrottlePolicy = {
  // Per link: enough for a person's typos, few for a guesser; a locked link opens again after the lockout.
  accountFailures: 10,
  addressFailures: 20,
  windowMs: 15 * 60_000,
  lockoutMs: 15 * 60_000
}
const UNLOCK_MS = 12 * 3600_000
const COOKIE = 'aerie-share'
const KEY_SETTING = 'share-cookie-key'

export interface ShareUnlock {
  throttle: LoginThrottle
  isUnlocked (request: FastifyRequest, link: ShareLinkRecord, now: Date): boolean
  setUnlocked (reply: FastifyReply, link: ShareLinkRecord, basePath: string, now: Date): void
}

export function createShareUnlock (components: { accounts: AccountStore, loginFailures: LoginFailureStore, secureCookies: boolean }): ShareUnlock {
  const { accounts, loginFailures, secureCookies } = components
  // One key for every server process on this database, made once.
  accounts.setSettingOnce(KEY_SETTING, newSecret())
  const key = Buffer.from(accounts.getSetting(KEY_SETTING)!, 'base64url')
  const sign = (linkId: string, until: number): Buffer => createHmac('sha256', key).update(`${linkId}.${until}`).digest()
  const prefixed = (k: string): string => `share:${k}`
  const store: LoginFailureStore = {
    recordFailure: (k, at) => loginFailures.recordFailure(prefixed(k), at),
    failuresSince: (k, since) => loginFailures.failuresSince(prefixed(k), since),
    clearFailures: k => loginFailures.clearFailures(prefixed(k)),
    lock: (k, until) => loginFailures.lock(prefixed(k), until),
    lockedUntil: k => loginFailures.lockedUntil(prefixed(k)),
    prune: before => loginFailures.prune(before)
  }
  return {
    throttle: createLoginThrottle(store, SHARE_THROTTLE),
    isUnlocked (request, link, now) {
      const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(request.cookies[COOKIE] ?? '')
      if (match === null) return false
      const until = Number(match[1])
      // Compared as text: base64url decoding ignores the last character's two spare bits, so
      // four spellings would decode to the same signature (a test changing that character
      // passed one time in sixteen).
      const sent = Buffer.from(match[2]!)
      const expected = Buffer.from(sign(link.id, until).toString('base64url'))
      return until > now.getTime() && sent.length === expected.length && timingSafeEqual(sent, expected)
    },
    setUnlocked (reply, link, basePath, now) {
      const until = Math.min(now.getTime() + UNLOCK_MS, link.expiresAt.getTime())
      void reply.setCookie(COOKIE, `${until}.${sign(link.id, until).toString('base64url')}`, {
        path: basePath,
        httpOnly: true,
        secure: secureCookies,
        sameSite: 'strict',
        expires: new Date(until)
      })
    }
  }
}
