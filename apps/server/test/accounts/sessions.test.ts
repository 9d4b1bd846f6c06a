import { describe, expect, it } from 'vitest'
import { createApiTokens } from '../../src/accounts/api-tokens.ts'
import { hashSecret } from '../../src/accounts/secrets.ts'
import { createSessions } from '../../src/accounts/sessions.ts'
import { tempMetadata } from '../fixtures.ts'

const POLICY = { lifetimeMs: 3600_000, idleMs: 600_000, ticketMs: 60_000 }
const T0 = new Date('2030-01-01T00:00:00Z')
const at = (ms: number): Date => new Date(T0.getTime() + ms)

describe('sessions', () => {
  it('gives a random 256-bit id and CSRF token, and stores only the id\'s hash', () => {
    using temp = tempMetadata()
    const sessions = createSessions(temp.metadata.sessions, POLICY)
    const a = sessions.start('u1', '127.0.0.1', at(0))
    const b = sessions.start('u1', '127.0.0.1', at(0))
    expect(a.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(a.sessionId).not.toBe(b.sessionId)
    expect(a.csrfToken).not.toBe(a.sessionId)
    expect(temp.metadata.sessions.session(a.sessionId)).toBeUndefined()
    expect(temp.metadata.sessions.session(hashSecret(a.sessionId))?.userId).toBe('u1')
    expect(sessions.resume(a.sessionId, at(1000))?.csrfToken).toBe(a.csrfToken)
    expect(sessions.resume('not-a-session', at(1000))).toBeUndefined()
  })

  it('ends after the idle timeout, and after the lifetime even when in use', () => {
    using temp = tempMetadata()
    const sessions = createSessions(temp.metadata.sessions, POLICY)
    const idle = sessions.start('u1', '127.0.0.1', at(0))
    expect(sessions.resume(idle.sessionId, at(600_001))).toBeUndefined()

    const busy = sessions.start('u1', '127.0.0.1', at(0))
    for (let t = 500_000; t < 3600_000; t += 500_000) expect(sessions.resume(busy.sessionId, at(t))).toBeDefined()
    expect(sessions.resume(busy.sessionId, at(3600_000))).toBeUndefined()
  })

  it('ends one session on logout, and all of a user\'s sessions on demand', () => {
    using temp = tempMetadata()
    const sessions = createSessions(temp.metadata.sessions, POLICY)
    const a = sessions.start('u1', '127.0.0.1', at(0))
    const b = sessions.start('u1', '127.0.0.1', at(0))
    const c = sessions.start('u2', '127.0.0.1', at(0))
    sessions.end(a.sessionId)
    expect(sessions.resume(a.sessionId, at(1))).toBeUndefined()
    expect(sessions.resume(b.sessionId, at(1))).toBeDefined()
    sessions.endAllOf('u1')
    expect(sessions.resume(b.sessionId, at(1))).toBeUndefined()
    expect(sessions.resume(c.sessionId, at(1))).toBeDefined()
  })

  it('keeps a login ticket until it is used or expires', () => {
    using temp = tempMetadata()
    const sessions = createSessions(temp.metadata.sessions, POLICY)
    const ticket = sessions.startTicket('u1', at(0))
    expect(sessions.ticketUser(ticket, at(1))).toBe('u1')
    expect(sessions.ticketUser(ticket, at(2))).toBe('u1')
    sessions.finishTicket(ticket)
    expect(sessions.ticketUser(ticket, at(3))).toBeUndefined()
    const late = sessions.startTicket('u1', at(0))
    expect(sessions.ticketUser(late, at(60_000))).toBeUndefined()
  })
})

describe('API tokens', () => {
  it('are shown once, stored hashed, named, revocable, and remember their last use', () => {
    using temp = tempMetadata()
    const tokens = createApiTokens(temp.metadata.apiTokens)
    const { token, record } = tokens.issue('u1', 'backup script', at(0))
    expect(token).toMatch(/^aerie_[A-Za-z0-9_-]{43}$/)
    expect(record.tokenHash).toBe(hashSecret(token))
    expect(JSON.stringify(tokens.list('u1'))).not.toContain(token)
    expect(tokens.authenticate(token, at(5000))?.name).toBe('backup script')
    expect(tokens.get(record.id)?.lastUsedAt).toEqual(at(5000))
    expect(tokens.authenticate(`${token}x`, at(6000))).toBeUndefined()
    expect(tokens.revoke(record.id, at(7000))).toBe(true)
    expect(tokens.revoke(record.id, at(8000))).toBe(false)
    expect(tokens.authenticate(token, at(9000))).toBeUndefined()
    expect(tokens.list('u2')).toEqual([])
  })
})
