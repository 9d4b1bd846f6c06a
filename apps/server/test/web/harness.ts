import type { FastifyInstance } from 'fastify'
import { createAuditLog } from '../../src/audit/audit-log.ts'
import type { AuditLog } from '../../src/audit/audit-log.ts'
import { buildWebApp } from '../../src/web/app.ts'
import type { WebAppOptions } from '../../src/web/app.ts'
import { tempMetadata } from '../fixtures.ts'
import type { TempMetadata } from '../fixtures.ts'
import { fakeTeamServer } from './fake-team-server.ts'
import type { FakeTeamServer } from './fake-team-server.ts'

// Response bodies are checked with expect() shapes; typing each one would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

export const SETUP_TOKEN = 'setup-token-for-tests-0123456789abcdef'
export const ADMIN = { email: 'ada@example.org', password: 'a long admin passphrase' }

/** The real web app on a real port (127.0.0.1, random), over a real metadata database and the fake server. */
export interface RunningWebApp extends AsyncDisposable {
  app: FastifyInstance
  base: string
  api: FakeTeamServer
  temp: TempMetadata
  audit: AuditLog
}

export async function startWebApp (options: Partial<WebAppOptions> = {}): Promise<RunningWebApp> {
  const temp = tempMetadata()
  const api = fakeTeamServer()
  const audit = createAuditLog(temp.metadata.audit)
  const app = await buildWebApp({ api, metadata: temp.metadata, audit, setupToken: SETUP_TOKEN, secureCookies: false, ...options })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    app,
    base: address,
    api,
    temp,
    audit,
    async [Symbol.asyncDispose] () {
      await app.close()
      temp[Symbol.dispose]()
    }
  }
}

/** A browser-like client: keeps the session cookie and sends the CSRF token it was given. */
export class Client {
  readonly base: string
  cookie?: string
  csrfToken?: string
  bearer?: string

  constructor (base: string) {
    this.base = base
  }

  async request (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: Json, headers: Headers }> {
    const response = await fetch(this.base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.cookie === undefined ? {} : { cookie: this.cookie }),
        ...(this.csrfToken === undefined || method === 'GET' ? {} : { 'x-csrf-token': this.csrfToken }),
        ...(this.bearer === undefined ? {} : { authorization: `Bearer ${this.bearer}` }),
        ...headers
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
    })
    const setCookie = response.headers.getSetCookie().find(c => c.startsWith('aerie-session=') || c.startsWith('__Host-aerie-session='))
    if (setCookie !== undefined) {
      const pair = setCookie.split(';')[0]!
      this.cookie = pair.endsWith('=') ? undefined : pair
    }
    const text = await response.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch {}
    if (parsed !== null && typeof parsed === 'object' && 'csrfToken' in parsed && typeof parsed.csrfToken === 'string') this.csrfToken = parsed.csrfToken
    return { status: response.status, body: parsed, headers: response.headers }
  }

  get (path: string) { return this.request('GET', path) }
  post (path: string, body: unknown = {}) { return this.request('POST', path, body) }
  delete (path: string) { return this.request('DELETE', path) }
}

/** Runs first-admin setup and returns the signed-in admin's client. */
export async function setUpAdmin (base: string): Promise<Client> {
  const client = new Client(base)
  const response = await client.post('/api/v1/setup', { token: SETUP_TOKEN, ...ADMIN })
  if (response.status !== 200) throw new Error(`setup failed: ${JSON.stringify(response.body)}`)
  return client
}

/** Creates a user (as the given admin) and returns that user's signed-in client. */
export async function addUser (admin: Client, email: string, role: 'admin' | 'user' = 'user', password = 'a long user passphrase'): Promise<Client> {
  const created = await admin.post('/api/v1/users', { email, role, password })
  if (created.status !== 200) throw new Error(`create user failed: ${JSON.stringify(created.body)}`)
  const client = new Client(admin.base)
  const login = await client.post('/api/v1/login', { email, password })
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`)
  return client
}
