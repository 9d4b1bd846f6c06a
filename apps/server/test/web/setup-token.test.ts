import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { createAuditLog } from '../../src/audit/audit-log.ts'
import { buildWebApp } from '../../src/web/app.ts'
import { ADMIN, Client, SETUP_TOKEN, startWebApp } from './harness.ts'
import { fakeTeamServer } from './fake-team-server.ts'

describe('first-admin setup', () => {
  it('needs the setup token, and works once', async () => {
    await using web = await startWebApp()
    const client = new Client(web.base)
    const wrong = await client.post('/api/v1/setup', { token: 'guessed', ...ADMIN })
    expect(wrong.status).toBe(403)
    expect(wrong.body.error.message).toMatch(/setup token is wrong/)
    expect((await client.post('/api/v1/setup', { token: SETUP_TOKEN, email: 'not-an-email', password: ADMIN.password })).status).toBe(400)
    expect((await client.post('/api/v1/setup', { token: SETUP_TOKEN, email: ADMIN.email, password: 'short' })).status).toBe(400)

    const done = await client.post('/api/v1/setup', { token: SETUP_TOKEN, ...ADMIN })
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ status: 'signed-in', user: { email: ADMIN.email, role: 'admin', totpEnabled: false } })
    expect((await client.get('/api/v1/me')).body.user.email).toBe(ADMIN.email)

    const again = await new Client(web.base).post('/api/v1/setup', { token: SETUP_TOKEN, email: 'eve@example.org', password: 'another long password' })
    expect(again.status).toBe(409)
    expect(again.body.error).toEqual({ code: 'ERR_CONFLICT', message: 'setup is already done; sign in instead' })
    expect(web.audit.list({ limit: 10 }).map(e => e.action).reverse()).toEqual(['setup.refused', 'setup.completed', 'login.succeeded'])
  })

  it('stays done after a restart with the same token, even if every admin is later removed from the table', async () => {
    await using web = await startWebApp()
    expect((await new Client(web.base).post('/api/v1/setup', { token: SETUP_TOKEN, ...ADMIN })).status).toBe(200)
    await web.app.close()
    const db = new DatabaseSync(web.temp.path)
    db.exec('DELETE FROM users')
    db.close()
    const restarted = await buildWebApp({ api: fakeTeamServer(), metadata: web.temp.metadata, audit: createAuditLog(web.temp.metadata.audit), setupToken: SETUP_TOKEN, secureCookies: false })
    try {
      const base = await restarted.listen({ port: 0, host: '127.0.0.1' })
      const response = await new Client(base).post('/api/v1/setup', { token: SETUP_TOKEN, email: 'eve@example.org', password: 'another long password' })
      expect(response.status).toBe(409)
    } finally {
      await restarted.close()
    }
  })

  it('is refused when the server was started without a setup token', async () => {
    await using web = await startWebApp({ setupToken: undefined })
    const response = await new Client(web.base).post('/api/v1/setup', { token: SETUP_TOKEN, ...ADMIN })
    expect(response.status).toBe(409)
    expect(response.body.error.message).toMatch(/started without a setup token/)
  })

  it('lets only one of two racing setups make an admin', async () => {
    await using web = await startWebApp()
    const results = await Promise.all(['ada@example.org', 'eve@example.org'].map(email =>
      new Client(web.base).post('/api/v1/setup', { token: SETUP_TOKEN, email, password: ADMIN.password })))
    expect(results.map(r => r.status).sort()).toEqual([200, 409])
    expect(web.temp.metadata.accounts.countAdmins()).toBe(1)
  })
})
