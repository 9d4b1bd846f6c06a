import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webRoutes } from '../../src/web/app.ts'
import { addUser, Client, setUpAdmin, startWebApp } from './harness.ts'
import type { RunningWebApp } from './harness.ts'

// The only routes anyone may call without signing in. Adding one means adding it here, on purpose.
const PUBLIC_API = ['POST /api/v1/setup', 'POST /api/v1/login', 'POST /api/v1/login/second-factor']
const PUBLIC_OTHER = ['GET /api/openapi.json', 'HEAD /api/openapi.json', 'GET /api/docs', 'HEAD /api/docs', 'GET /setup', 'HEAD /setup', 'GET /kit/dom.js', 'HEAD /kit/dom.js']
// The public share-link pages: anyone with a link's token (share/public-pages.ts checks it on each).
const SHARE_PAGES = ['/s/:token', '/s/:token/browse/*', '/s/:token/download', '/s/:token/download/*', '/s/:token/unlock', '/s/:token/upload']

const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'x')

describe('route access', () => {
  let web: RunningWebApp
  let user: Client
  beforeAll(async () => {
    web = await startWebApp()
    const admin = await setUpAdmin(web.base)
    user = await addUser(admin, 'bob@example.org')
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  const apiRoutes = () => webRoutes(web.app).filter(r => r.url.startsWith('/api/v1/'))

  it('knows every route, and each API route says who may call it', () => {
    expect(apiRoutes().length).toBeGreaterThan(20)
    for (const route of apiRoutes()) expect(route.access, `${route.method} ${route.url}`).toBeDefined()
    expect(apiRoutes().filter(r => r.access === 'public').map(r => `${r.method} ${r.url}`).sort()).toEqual([...PUBLIC_API].sort())
    // Outside /api/v1: the API docs, the setup page and the console's static files (which need no secret: the data comes from the API).
    const shareRoutes = webRoutes(web.app).filter(r => r.url.startsWith('/s/'))
    expect([...new Set(shareRoutes.map(r => r.url))].sort()).toEqual([...SHARE_PAGES].sort())
    for (const route of shareRoutes) expect(route.access, `${route.method} ${route.url}`).toBe('public')
    const others = webRoutes(web.app).filter(r => !r.url.startsWith('/api/v1/') && !r.url.startsWith('/s/')).map(r => `${r.method} ${r.url}`)
    expect(others.filter(r => !PUBLIC_OTHER.includes(r)).every(r => / \/\*$/.test(r) || / \/$/.test(r))).toBe(true)
  })

  it('refuses every non-public API route without a session or token (401)', async () => {
    const anonymous = new Client(web.base)
    const checked: string[] = []
    for (const route of apiRoutes().filter(r => r.access !== 'public')) {
      const body = route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE' ? undefined : {}
      const response = await anonymous.request(route.method, concrete(route.url), body)
      expect(response.status, `${route.method} ${route.url}`).toBe(401)
      if (route.method !== 'HEAD') expect(response.body.error.code).toBe('ERR_UNAUTHENTICATED')
      checked.push(route.url)
    }
    expect(checked.length).toBeGreaterThan(20)
  })

  it('refuses a made-up session cookie and a made-up API token (401)', async () => {
    for (const route of apiRoutes().filter(r => r.access !== 'public' && r.method !== 'HEAD')) {
      const forged = new Client(web.base)
      forged.cookie = 'aerie-session=' + 'A'.repeat(43)
      forged.csrfToken = 'B'.repeat(43)
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {}
      expect((await forged.request(route.method, concrete(route.url), body)).status, `${route.method} ${route.url}`).toBe(401)
      const bearer = new Client(web.base)
      bearer.bearer = 'aerie_' + 'C'.repeat(43)
      expect((await bearer.request(route.method, concrete(route.url), body)).status, `${route.method} ${route.url}`).toBe(401)
    }
  })

  it('refuses administrator routes to a user (403)', async () => {
    const adminOnly = apiRoutes().filter(r => r.access === 'admin' && r.method !== 'HEAD')
    expect(adminOnly.map(r => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['GET /api/v1/users', 'GET /api/v1/audit', 'GET /api/v1/dashboard']))
    for (const route of adminOnly) {
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : {}
      const response = await user.request(route.method, concrete(route.url), body)
      expect(response.status, `${route.method} ${route.url}`).toBe(403)
      expect(response.body.error.code).toBe('ERR_FORBIDDEN')
    }
  })

  it('documents every API route in the OpenAPI document', async () => {
    const doc = (await new Client(web.base).get('/api/openapi.json')).body
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map(m => `${m.toUpperCase()} ${path}`))
    const registered = apiRoutes().filter(r => r.method !== 'HEAD').map(r => `${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`)
    expect(documented.sort()).toEqual(registered.sort())
    const page = await new Client(web.base).get('/api/docs')
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.body).toContain('/api/v1/enrollment-codes')
  })
})
