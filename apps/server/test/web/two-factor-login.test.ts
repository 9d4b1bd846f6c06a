import { describe, expect, it } from 'vitest'
import { decodeTotpSecret, totpCode, totpStep } from '../../src/accounts/totp.ts'
import { ADMIN, Client, setUpAdmin, startWebApp } from './harness.ts'

describe('two-step sign-in', () => {
  it('enrols an authenticator, then asks for its code at sign-in; each code works once; recovery codes work once', async () => {
    let clock = new Date('2030-06-01T12:00:00Z')
    await using web = await startWebApp({ now: () => clock })
    const admin = await setUpAdmin(web.base)

    const started = await admin.post('/api/v1/me/totp')
    expect(started.status).toBe(200)
    expect(started.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Aerie%20\(Example%20Org\):ada%40example\.org\?secret=[A-Z2-7]{32}&/)
    expect(started.body.qrSvg).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s)
    const key = decodeTotpSecret(started.body.secret)!
    const code = (at: Date): string => totpCode(key, totpStep(at))

    expect((await admin.post('/api/v1/me/totp/confirm', { code: '000000' })).status).toBe(400)
    const confirmed = await admin.post('/api/v1/me/totp/confirm', { code: code(clock) })
    expect(confirmed.status).toBe(200)
    const recoveryCodes: string[] = confirmed.body.recoveryCodes
    expect(recoveryCodes).toHaveLength(10)
    expect((await admin.get('/api/v1/me')).body.user).toMatchObject({ totpEnabled: true, recoveryCodesLeft: 10 })
    expect((await admin.post('/api/v1/me/totp')).status).toBe(409)
    await admin.post('/api/v1/logout')

    // Password first: no session yet, a ticket for the second step.
    clock = new Date(clock.getTime() + 30_000)
    const client = new Client(web.base)
    const first = await client.post('/api/v1/login', ADMIN)
    expect(first.body).toEqual({ status: 'second-factor', ticket: expect.any(String) })
    expect(client.cookie).toBeUndefined()
    expect((await client.get('/api/v1/me')).status).toBe(401)

    const wrong = await client.post('/api/v1/login/second-factor', { ticket: first.body.ticket, code: '123456' })
    expect(wrong.status).toBe(401)
    const right = await client.post('/api/v1/login/second-factor', { ticket: first.body.ticket, code: code(clock) })
    expect(right.status).toBe(200)
    expect((await client.get('/api/v1/me')).body.user.email).toBe(ADMIN.email)
    // The ticket is spent.
    expect((await new Client(web.base).post('/api/v1/login/second-factor', { ticket: first.body.ticket, code: code(clock) })).status).toBe(401)

    // The same code again, with a fresh password step: refused (replay).
    const replayTicket = (await new Client(web.base).post('/api/v1/login', ADMIN)).body.ticket
    const replay = await new Client(web.base).post('/api/v1/login/second-factor', { ticket: replayTicket, code: code(clock) })
    expect(replay.status).toBe(401)
    expect(replay.body.error.message).toMatch(/already used/)

    // A recovery code instead of the app's code, once.
    const recovery = await new Client(web.base).post('/api/v1/login/second-factor', { ticket: replayTicket, code: recoveryCodes[0]!.toUpperCase() })
    expect(recovery.status).toBe(200)
    expect(recovery.body.user.recoveryCodesLeft).toBe(9)
    const again = await new Client(web.base).post('/api/v1/login', ADMIN)
    expect((await new Client(web.base).post('/api/v1/login/second-factor', { ticket: again.body.ticket, code: recoveryCodes[0]! })).status).toBe(401)

    // Turning it off needs the password and a code.
    const signedIn = new Client(web.base)
    signedIn.cookie = client.cookie
    signedIn.csrfToken = client.csrfToken
    expect((await signedIn.post('/api/v1/me/totp/disable', { password: 'wrong password here', code: recoveryCodes[1]! })).status).toBe(401)
    expect((await signedIn.post('/api/v1/me/totp/disable', { password: ADMIN.password, code: recoveryCodes[1]! })).status).toBe(200)
    const plain = await new Client(web.base).post('/api/v1/login', ADMIN)
    expect(plain.body.status).toBe('signed-in')

    const actions = web.audit.list({ limit: 50 }).map(e => e.action)
    expect(actions).toEqual(expect.arrayContaining(['totp.enabled', 'totp.disabled', 'recovery_code.used', 'login.failed', 'reauthentication.failed']))
    const login = web.audit.list({ limit: 50, action: 'login.succeeded' }).map(e => e.detail.factors)
    expect(login).toEqual(expect.arrayContaining(['password+totp', 'password+recovery-code', 'password']))
    expect(web.audit.verify().ok).toBe(true)
  })
})
