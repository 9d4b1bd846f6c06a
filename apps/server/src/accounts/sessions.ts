import type { SessionRecord, SessionStore } from '../metadata/stores.ts'
import { hashSecret, newSecret } from './secrets.ts'

/**
 * Browser sessions: a random 256-bit id in a cookie (stored hashed), an absolute lifetime and
 * an idle timeout, and a CSRF token per session that state-changing requests must echo.
 * Login tickets bridge the password step and the TOTP step.
 */

export interface SessionPolicy {
  lifetimeMs: number
  idleMs: number
  ticketMs: number
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  lifetimeMs: 12 * 3600_000,
  idleMs: 30 * 60_000,
  ticketMs: 5 * 60_000
}

// Writing last-seen on every request would make every read a write; a minute is fine-grained enough for idle expiry.
const TOUCH_EVERY_MS = 60_000

export interface StartedSession {
  /** The cookie value; never stored. */
  sessionId: string
  csrfToken: string
  expiresAt: Date
}

export interface Sessions {
  start (userId: string, address: string, now: Date): StartedSession
  /** The live session for a cookie value, or undefined when unknown, expired or idle too long. */
  resume (sessionId: string, now: Date): SessionRecord | undefined
  end (sessionId: string): void
  endAllOf (userId: string): void
  startTicket (userId: string, now: Date): string
  /** The user a live ticket stands for; it stays valid until used (finishTicket) or expired. */
  ticketUser (ticket: string, now: Date): string | undefined
  finishTicket (ticket: string): void
}

export function createSessions (store: SessionStore, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Sessions {
  let lastSweep = 0
  const sweep = (now: Date): void => {
    if (now.getTime() - lastSweep < TOUCH_EVERY_MS) return
    store.deleteExpiredSessions(now)
    lastSweep = now.getTime()
  }
  return {
    start (userId, address, now) {
      sweep(now)
      const sessionId = newSecret()
      const csrfToken = newSecret()
      const expiresAt = new Date(now.getTime() + policy.lifetimeMs)
      store.createSession({ idHash: hashSecret(sessionId), userId, csrfToken, createdAt: now, lastSeenAt: now, expiresAt, address })
      return { sessionId, csrfToken, expiresAt }
    },
    resume (sessionId, now) {
      const idHash = hashSecret(sessionId)
      const session = store.session(idHash)
      if (session === undefined) return undefined
      if (session.expiresAt <= now || now.getTime() - session.lastSeenAt.getTime() > policy.idleMs) {
        store.deleteSession(idHash)
        return undefined
      }
      if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) store.touchSession(idHash, now)
      return session
    },
    end (sessionId) { store.deleteSession(hashSecret(sessionId)) },
    endAllOf (userId) { store.deleteUserSessions(userId) },
    startTicket (userId, now) {
      sweep(now)
      const ticket = newSecret()
      store.createTicket({ ticketHash: hashSecret(ticket), userId, expiresAt: new Date(now.getTime() + policy.ticketMs) })
      return ticket
    },
    ticketUser (ticket, now) {
      const record = store.ticket(hashSecret(ticket))
      if (record === undefined) return undefined
      if (record.expiresAt <= now) {
        store.deleteTicket(record.ticketHash)
        return undefined
      }
      return record.userId
    },
    finishTicket (ticket) { store.deleteTicket(hashSecret(ticket)) }
  }
}
