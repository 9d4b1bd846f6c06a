import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webRoutes } from '../../src/web/app.ts'
import { ADMIN, Client, SETUP_TOKEN, setUpAdmin, startWebApp } from './harness.ts'
import type { RunningWebApp } from './harness.ts'

const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'x')

describe('CSRF protection and session cookies', () => {
  let web: RunningWebApp
  let admin: Client
  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('refuses every state-changing request with a session cookie but without the right X-CSRF-Token (403)', async () => {
    const changing = webRoutes(web.app).filter(r => r.url.startsWith('/api/v1/') && r.access !== 'public' && !['GET', 'HEAD'].includes(r.method))
    expect(changing.length).toBeGreaterThanOrEqual(15)
    for (const token of [undefined, 'wrong-token', '']) {
      const noCsrf = new Client(web.base)
      noCsrf.cookie = admin.cookie
      if (token !== undefined) noCsrf.csrfToken = token
      for (const route of changing) {
        const response = await noCsrf.request(route.method, concrete(route.url), route.method === 'DELETE' ? undefined : {}, token === '' ? { 'x-csrf-token': '' } : {})
        expect(response.status, `${route.method} ${route.url} with CSRF token ${String(token)}`).toBe(403)
        expect(response.body.error.code).toBe('ERR_CSRF')
      }
    }
    // The session itself is still fine, and the right token works.
    expect((await admin.post('/api/v1/tokens', { name: 'ci' })).status).toBe(200)
  })

  it('does not ask an API token for a CSRF token, but still checks its rights', async () => {
    const created = await admin.post('/api/v1/tokens', { name: 'automation' })
    const bot = new Client(web.base)
    bot.bearer = created.body.token
    const code = await bot.post('/api/v1/enrollment-codes', { deviceName: 'build box' })
    expect(code.status).toBe(200)
    expect(code.body.code).toMatch(/^aerie1-/)
    const entry = web.audit.list({ limit: 1, action: 'enrollment_code.created' })[0]!
    expect(entry.detail).toMatchObject({ via: 'token:automation' })
  })

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/, and never readable by the page', async () => {
    const client = new Client(web.base)
    const response = await client.request('POST', '/api/v1/login', { email: ADMIN.email, password: ADMIN.password })
    const cookie = response.headers.getSetCookie().join('\n')
    expect(cookie).toMatch(/^aerie-session=[A-Za-z0-9_-]{43};/)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect(cookie).toMatch(/Path=\//)
    expect(cookie).not.toMatch(/Secure/)
  })

  it('sets Secure, the __Host- prefix and HSTS when secure cookies are on (the default for HTTPS)', async () => {
    await using secure = await startWebApp({ secureCookies: true })
    const client = new Client(secure.base)
    const response = await client.request('POST', '/api/v1/setup', { token: SETUP_TOKEN, ...ADMIN })
    expect(response.status).toBe(200)
    const cookie = response.headers.getSetCookie().join('\n')
    expect(cookie).toMatch(/^__Host-aerie-session=/)
    expect(cookie).toMatch(/; Secure/)
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/)
  })

  it('sends the security headers on every response, API and page alike', async () => {
    for (const path of ['/', '/setup', '/api/v1/me', '/api/openapi.json', '/api/v1/nothing', '/nothing.js']) {
      const response = await fetch(web.base + path)
      const csp = response.headers.get('content-security-policy') ?? ''
      expect(csp, path).toMatch(/script-src 'self'/)
      expect(csp, path).not.toMatch(/unsafe-inline/)
      expect(csp, path).toMatch(/frame-ancestors 'none'/)
      expect(response.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(response.headers.get('x-frame-options'), path).toBe('DENY')
      await response.arrayBuffer()
    }
  })

  it('logs out: the cookie is cleared and the old session no longer works', async () => {
    const client = new Client(web.base)
    await client.post('/api/v1/login', { email: ADMIN.email, password: ADMIN.password })
    const oldCookie = client.cookie
    expect((await client.post('/api/v1/logout')).status).toBe(200)
    expect(client.cookie).toBeUndefined()
    client.cookie = oldCookie
    expect((await client.get('/api/v1/me')).status).toBe(401)
  })
})
