import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { webRoutes } from '../../src/web/app.ts'
import { setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'

const concrete = (url: string): string => url.replace(/:[A-Za-z]+/g, 'x')
const MALFORMED: Array<[string, string]> = [
  ['not JSON', '{"email": '],
  ['an array', '[]'],
  ['a string', '"hello"'],
  ['an unknown field', '{"unexpected": true}'],
  ['null', 'null']
]

function expectErrorBody (body: Json): void {
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message'])
  expect(body.error.code).toBe('ERR_INVALID_INPUT')
  expect(body.error.message.length).toBeGreaterThan(5)
}

describe('malformed request bodies', () => {
  let web: RunningWebApp
  let admin: Client
  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('every route that takes a body rejects malformed ones with 400 and a message', async () => {
    const withBody = webRoutes(web.app).filter(r => r.url.startsWith('/api/v1/') && ['POST', 'PUT', 'PATCH'].includes(r.method))
    expect(withBody.length).toBeGreaterThan(15)
    for (const route of withBody) {
      for (const [what, body] of MALFORMED) {
        const response = await admin.request(route.method, concrete(route.url), body)
        expect(response.status, `${route.method} ${route.url} with ${what}`).toBe(400)
        expectErrorBody(response.body)
      }
    }
  })

  it('says which field is wrong', async () => {
    const missing = await admin.post('/api/v1/users', { email: 'x@example.org', role: 'user' })
    expect(missing.body.error.message).toBe("body must have required property 'password'")
    const extra = await admin.post('/api/v1/users', { email: 'x@example.org', role: 'user', password: 'a long password!', admin: true })
    expect(extra.body.error.message).toMatch(/"admin" is not a field here/)
    const wrongType = await admin.post('/api/v1/users', { email: 'x@example.org', role: 'owner', password: 'a long password!' })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body.error.message).toMatch(/role must be equal to one of the allowed values/)
    // Numbers are not quietly turned into strings (or the reverse).
    const number = await admin.post('/api/v1/login', { email: 'x@example.org', password: 123456789012 })
    expect(number.status).toBe(400)
    expect(number.body.error.message).toBe('body/password must be string')
  })

  it('checks values beyond their type: emails, passwords, names, query filters', async () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', '/api/v1/users', { email: 'not an email', role: 'user', password: 'a long password!' }, /does not look like an email/],
      ['POST', '/api/v1/users', { email: 'bob@example.org', role: 'user', password: 'short' }, /12 to 1024/],
      ['POST', '/api/v1/tokens', { name: ' padded ' }, /token name must be/],
      ['POST', '/api/v1/enrollment-codes', { deviceName: 'a\u0000b' }, /device name must be/],
      ['POST', '/api/v1/enrollment-codes', { ttlMinutes: 1 }, /ttlMinutes must be >= 5/],
      ['GET', '/api/v1/audit?since=yesterday', undefined, /must match format "date-time"/],
      ['GET', '/api/v1/audit?limit=-1', undefined, /limit must match pattern/],
      ['GET', '/api/v1/audit?colour=red', undefined, /"colour" is not a field here/]
    ]
    for (const [method, path, body, message] of cases) {
      const response = await admin.request(method, path, body)
      expect(response.status, `${method} ${path}`).toBe(400)
      expect(response.body.error.message, `${method} ${path}`).toMatch(message)
    }
  })

  it('refuses a body that is not JSON, and one too large', async () => {
    const text = await admin.request('POST', '/api/v1/tokens', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(text.status).toBe(415)
    expect(text.body.error.message).toMatch(/Content-Type: application\/json/)
    const large = await admin.post('/api/v1/tokens', { name: 'x'.repeat(100_000) })
    expect(large.status).toBe(413)
    expect(large.body.error.code).toBe('ERR_INVALID_INPUT')
  })

  it('answers an unknown API path with 404 in the same error shape', async () => {
    const response = await admin.get('/api/v1/no-such-thing')
    expect(response.status).toBe(404)
    expect(response.body).toEqual({ error: { code: 'ERR_NOT_FOUND', message: expect.stringMatching(/no GET \/api\/v1\/no-such-thing/) } })
  })
})
