import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConflictError } from '../../src/accounts/errors.ts'
import { DEFAULT_SCOPE, GENESIS_HASH } from '../../src/metadata/stores.ts'
import type { AuditEntry, ServerMetadata } from '../../src/metadata/stores.ts'

/**
 * What every ServerMetadata implementation must do (node:sqlite today; PostgreSQL later runs
 * the same suite). `open` gives a fresh, empty store and a way to throw it away.
 */
export function describeMetadataCompliance (name: string, open: () => { metadata: ServerMetadata, dispose (): void }): void {
  describe(`${name}: metadata store compliance`, () => {
    let store: ReturnType<typeof open>
    let m: ServerMetadata
    beforeEach(() => { store = open(); m = store.metadata })
    afterEach(() => { store.dispose() })

    const T = new Date('2030-01-01T00:00:00Z')
    const at = (ms: number): Date => new Date(T.getTime() + ms)
    const addUser = (id: string, email: string, role: 'admin' | 'user' = 'user') =>
      m.accounts.createUser({ id, email, role, passwordHash: `hash-${id}`, createdAt: T })

    it('accounts: creates, finds by id and case-insensitive email, lists, counts admins, refuses a taken email', () => {
      expect(addUser('u1', 'Ada@Example.org', 'admin')).toEqual({ id: 'u1', email: 'Ada@Example.org', role: 'admin', passwordHash: 'hash-u1', createdAt: T })
      addUser('u2', 'bob@example.org')
      expect(m.accounts.userByEmail('ada@example.ORG')?.id).toBe('u1')
      expect(m.accounts.userById('u2')?.email).toBe('bob@example.org')
      expect(m.accounts.userById('nobody')).toBeUndefined()
      expect(m.accounts.listUsers().map(u => u.id)).toEqual(['u1', 'u2'])
      expect(m.accounts.countAdmins()).toBe(1)
      expect(() => addUser('u3', 'ADA@example.org')).toThrow(ConflictError)
    })

    it('accounts: disables and enables, changes the password hash and TOTP secrets', () => {
      addUser('u1', 'ada@example.org')
      m.accounts.setDisabled('u1', at(5))
      expect(m.accounts.userById('u1')?.disabledAt).toEqual(at(5))
      m.accounts.setDisabled('u1', undefined)
      expect(m.accounts.userById('u1')?.disabledAt).toBeUndefined()
      m.accounts.setPasswordHash('u1', 'new-hash')
      m.accounts.setTotp('u1', { pendingSecret: 'PENDING' })
      expect(m.accounts.userById('u1')).toMatchObject({ passwordHash: 'new-hash', totpPendingSecret: 'PENDING' })
      expect(m.accounts.userById('u1')?.totpSecret).toBeUndefined()
      m.accounts.setTotp('u1', { secret: 'SECRET' })
      expect(m.accounts.userById('u1')).toMatchObject({ totpSecret: 'SECRET' })
      expect(m.accounts.userById('u1')?.totpPendingSecret).toBeUndefined()
    })

    it('accounts: a TOTP step, a recovery code and a setting are each taken once', () => {
      addUser('u1', 'ada@example.org')
      expect(m.accounts.useTotpStep('u1', 100)).toBe(true)
      expect(m.accounts.useTotpStep('u1', 100)).toBe(false)
      expect(m.accounts.useTotpStep('u1', 99)).toBe(false)
      expect(m.accounts.useTotpStep('u1', 101)).toBe(true)
      m.accounts.replaceRecoveryCodes('u1', ['a', 'b'])
      expect(m.accounts.useRecoveryCode('u1', 'a', T)).toBe(true)
      expect(m.accounts.useRecoveryCode('u1', 'a', T)).toBe(false)
      expect(m.accounts.useRecoveryCode('u2', 'b', T)).toBe(false)
      expect(m.accounts.recoveryCodesLeft('u1')).toBe(1)
      expect(m.accounts.getSetting('x')).toBeUndefined()
      expect(m.accounts.setSettingOnce('x', '1')).toBe(true)
      expect(m.accounts.setSettingOnce('x', '2')).toBe(false)
      expect(m.accounts.getSetting('x')).toBe('1')
    })

    it('sessions and login tickets: stored, touched, ended one by one, per user, and when expired', () => {
      const session = (idHash: string, userId: string, expiresAt: Date) =>
        ({ idHash, userId, csrfToken: `csrf-${idHash}`, createdAt: T, lastSeenAt: T, expiresAt, address: '10.0.0.1' })
      m.sessions.createSession(session('s1', 'u1', at(1000)))
      m.sessions.createSession(session('s2', 'u1', at(5000)))
      m.sessions.createSession(session('s3', 'u2', at(5000)))
      expect(m.sessions.session('s1')).toEqual(session('s1', 'u1', at(1000)))
      m.sessions.touchSession('s1', at(10))
      expect(m.sessions.session('s1')?.lastSeenAt).toEqual(at(10))
      m.sessions.deleteExpiredSessions(at(2000))
      expect(m.sessions.session('s1')).toBeUndefined()
      m.sessions.deleteUserSessions('u1')
      expect(m.sessions.session('s2')).toBeUndefined()
      m.sessions.deleteSession('s3')
      expect(m.sessions.session('s3')).toBeUndefined()

      m.sessions.createTicket({ ticketHash: 't1', userId: 'u1', expiresAt: at(100) })
      expect(m.sessions.ticket('t1')).toEqual({ ticketHash: 't1', userId: 'u1', expiresAt: at(100) })
      m.sessions.deleteTicket('t1')
      expect(m.sessions.ticket('t1')).toBeUndefined()
    })

    it('API tokens: created, found by hash or id, listed per user, revoked once, touched', () => {
      m.apiTokens.createToken({ id: 'k1', userId: 'u1', name: 'ci', tokenHash: 'h1', createdAt: T })
      m.apiTokens.createToken({ id: 'k2', userId: 'u2', name: 'cron', tokenHash: 'h2', createdAt: at(1) })
      expect(m.apiTokens.tokenByHash('h1')).toEqual({ id: 'k1', userId: 'u1', name: 'ci', tokenHash: 'h1', createdAt: T })
      expect(m.apiTokens.listTokens('u2').map(t => t.id)).toEqual(['k2'])
      expect(m.apiTokens.listTokens().map(t => t.id)).toEqual(['k1', 'k2'])
      m.apiTokens.touchToken('k1', at(7))
      expect(m.apiTokens.tokenById('k1')?.lastUsedAt).toEqual(at(7))
      expect(m.apiTokens.revokeToken('k1', at(8))).toBe(true)
      expect(m.apiTokens.revokeToken('k1', at(9))).toBe(false)
      expect(m.apiTokens.tokenById('k1')?.revokedAt).toEqual(at(8))
    })

    it('login failures: counted in a window, cleared, locks keep the later end, pruned', () => {
      for (const ms of [0, 10, 20]) m.loginFailures.recordFailure('account:a', at(ms))
      expect(m.loginFailures.failuresSince('account:a', at(5))).toBe(2)
      expect(m.loginFailures.failuresSince('account:b', T)).toBe(0)
      m.loginFailures.clearFailures('account:a')
      expect(m.loginFailures.failuresSince('account:a', at(-1))).toBe(0)
      m.loginFailures.lock('account:a', at(500))
      m.loginFailures.lock('account:a', at(300))
      expect(m.loginFailures.lockedUntil('account:a')).toEqual(at(500))
      m.loginFailures.recordFailure('address:x', at(0))
      m.loginFailures.prune(at(1000))
      expect(m.loginFailures.lockedUntil('account:a')).toBeUndefined()
      expect(m.loginFailures.failuresSince('address:x', at(-1))).toBe(0)
    })

    it('audit: appends under the chain function with the last seq and hash, lists newest first with filters, keeps the head', () => {
      const entry = (n: number, actor: string, action: string): AuditEntry =>
        ({ time: at(n * 1000).toISOString(), actor, action, target: `t${n}`, detail: { n, ok: true, none: null }, address: '10.0.0.1' })
      const seen: Array<{ seq: number, hash: string }> = []
      const chain = (last: { seq: number, hash: string }): string => { seen.push(last); return `hash-${last.seq + 1}` }
      expect(m.audit.head()).toEqual({ seq: 0, hash: GENESIS_HASH })
      m.audit.append(entry(1, 'ada', 'login.succeeded'), chain)
      m.audit.append(entry(2, 'bob', 'login.failed'), chain)
      const third = m.audit.append(entry(3, 'ada', 'login.failed'), chain)
      expect(seen).toEqual([{ seq: 0, hash: GENESIS_HASH }, { seq: 1, hash: 'hash-1' }, { seq: 2, hash: 'hash-2' }])
      expect(third).toEqual({ ...entry(3, 'ada', 'login.failed'), seq: 3, prevHash: 'hash-2', hash: 'hash-3' })
      expect(m.audit.head()).toEqual({ seq: 3, hash: 'hash-3' })
      expect([...m.audit.entries()].map(e => e.seq)).toEqual([1, 2, 3])
      expect([...m.audit.entries()][0]).toEqual({ ...entry(1, 'ada', 'login.succeeded'), seq: 1, prevHash: GENESIS_HASH, hash: 'hash-1' })
      expect(m.audit.list({ limit: 10 }).map(e => e.seq)).toEqual([3, 2, 1])
      expect(m.audit.list({ limit: 10, actor: 'ada' }).map(e => e.seq)).toEqual([3, 1])
      expect(m.audit.list({ limit: 10, action: 'login.failed', actor: 'bob' }).map(e => e.seq)).toEqual([2])
      expect(m.audit.list({ limit: 10, since: at(2000), until: at(2000) }).map(e => e.seq)).toEqual([2])
      expect(m.audit.list({ limit: 1, beforeSeq: 3 }).map(e => e.seq)).toEqual([2])
    })

    it('backups: lists every retention policy by scope, and every unexpired restore grant; a revoked grant is gone for its device', () => {
      const policy = { last: 1, hourly: 0, daily: 7, weekly: 0, monthly: 0 }
      m.backups.setRetention(DEFAULT_SCOPE, { policy, setBy: 'ada', setAt: at(0) })
      m.backups.setRetention('dev2', { policy: { ...policy, last: 3 }, setBy: 'ada', setAt: at(1) })
      expect(m.backups.retentionPolicies()).toEqual([
        { scope: DEFAULT_SCOPE, policy, setBy: 'ada', setAt: at(0) },
        { scope: 'dev2', policy: { ...policy, last: 3 }, setBy: 'ada', setAt: at(1) }
      ])
      const grant = (id: string, deviceId: string, expiresIn: number) => ({ id, snapshotId: 's1', deviceId, grantedBy: 'ada', grantedAt: at(0), expiresAt: at(expiresIn) })
      m.backups.addRestoreGrant(grant('g1', 'dev2', 1000))
      m.backups.addRestoreGrant(grant('g2', 'dev3', 5000))
      m.backups.addRestoreGrant(grant('g3', 'dev2', 5000))
      expect(m.backups.allRestoreGrants(at(2000)).map(g => g.id)).toEqual(['g2', 'g3'])
      expect(m.backups.allRestoreGrants(at(0))).toEqual([grant('g1', 'dev2', 1000), grant('g2', 'dev3', 5000), grant('g3', 'dev2', 5000)])
      expect(m.backups.revokeRestoreGrant('g3')).toBe(true)
      expect(m.backups.revokeRestoreGrant('g3')).toBe(false)
      expect(m.backups.restoreGrants('dev2', at(0)).map(g => g.id)).toEqual(['g1'])
      expect(m.backups.allRestoreGrants(at(0)).map(g => g.id)).toEqual(['g1', 'g2'])
    })
  })
}
