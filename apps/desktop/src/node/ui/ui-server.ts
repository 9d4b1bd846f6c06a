import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AerieError } from '@aerie/core'
import { readJson, reply } from '../control-server.ts'
import { FileResult } from './file-result.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The UI's own web server, on 127.0.0.1 only: the browser UI's static files and its JSON
 * API (/api/v1/…), with live status by server-sent events.
 *
 * Who may call the API: a client that shows the per-install secret, either as a bearer
 * token (the Electron shell, scripts) or, for a browser, through a session cookie it gets
 * by posting the secret once (POST /api/v1/session, from the link `aerie ui` prints; the
 * secret travels in the URL's fragment, which is never sent). Against DNS rebinding the
 * Host must be this server's own; against cross-site requests a foreign Origin is refused,
 * a cookie-borne change must carry our Origin and JSON, and the cookie is SameSite=Strict.
 */
export interface UiRequest {
  body: unknown
  query: URLSearchParams
}

/** 'GET /api/v1/status' → handler. */
export type UiRoutes = Record<string, (req: UiRequest) => Promise<unknown>>

export interface UiServerOptions {
  secret: string
  routes: UiRoutes
  /** What the event stream pushes (the status), built once per push for every client. */
  snapshot(): Promise<unknown>
  /** Calls `onChange` when the status may have changed; returns how to stop. */
  subscribe(onChange: () => void): () => void
  /** The browser UI's files. */
  staticDir: string
  port?: number
}

export interface UiServer {
  /** http://127.0.0.1:PORT, without the secret. */
  url: string
  close(): Promise<void>
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store'
}
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' }
/**
 * The browser UI has no build step: the few libraries it loads are served each as one known
 * file of its npm package (never a directory of node_modules), same-origin for the CSP.
 * URL path → the file, as Node resolves it.
 */
const LIBRARIES: Record<string, string> = {
  // The Enroll screen's QR decoder (pages/enroll.js); its UMD build sets `self.jsQR`.
  '/vendor/jsqr.js': 'jsqr/dist/jsQR.js',
  // The DOM helpers this UI shares with the team server's console (dom.js re-exports them).
  '/kit/dom.js': '@aerie/ui-kit/dom.js'
}
/** Pushes are at most this often, however busy the sync is. */
const PUSH_MS = 250
/** Peers come and go without an engine event: a push this often catches them. */
const TICK_MS = 2_000
const MAX_SESSIONS = 64

export async function startUiServer (options: UiServerOptions): Promise<UiServer> {
  const files = await loadStatic(options.staticDir)
  const secret = Buffer.from(options.secret)
  // Browser sessions live as long as this process: a restarted agent makes the page log in again.
  const sessions = new Set<string>()
  const streams = new Set<ServerResponse>()
  let port = 0
  let cookieName = ''
  let pushTimer: NodeJS.Timeout | undefined
  let tickTimer: NodeJS.Timeout | undefined

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => { if (!res.headersSent) reply(res, 500, { error: { code: 'ERR_INTERNAL', message: String(err) } }) })
  })

  function ownOrigins (): string[] {
    return [`http://127.0.0.1:${port}`, `http://localhost:${port}`]
  }

  function refuse (res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { code, message } }))
  }

  function showsSecret (text: string | undefined): boolean {
    const given = Buffer.from(text ?? '')
    return given.length === secret.length && timingSafeEqual(given, secret)
  }

  function sessionOf (req: IncomingMessage): string | undefined {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=')
      if (name === cookieName && value !== undefined && sessions.has(value)) return value
    }
    return undefined
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a foreign name that resolves to 127.0.0.1 still says so in Host.
    if (!ownOrigins().includes(`http://${req.headers.host ?? ''}`)) return refuse(res, 421, 'ERR_HOST', 'wrong Host header: open the UI at the address `aerie ui` prints')
    const origin = req.headers.origin
    if (origin !== undefined && !ownOrigins().includes(origin)) return refuse(res, 403, 'ERR_ORIGIN', 'requests from other sites are refused')
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`)
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url.pathname)
    if (req.headers['sec-fetch-site'] === 'cross-site') return refuse(res, 403, 'ERR_ORIGIN', 'requests from other sites are refused')
    const write = req.method !== 'GET' && req.method !== 'HEAD'
    if (write && !/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      return refuse(res, 415, 'ERR_CONTENT_TYPE', 'send JSON (content-type: application/json)')
    }
    let body: unknown
    try {
      body = write ? await readJson(req) : undefined
    } catch {
      return refuse(res, 400, 'ERR_BAD_REQUEST', 'body is not JSON (at most 64 KiB)')
    }

    if (req.method === 'POST' && url.pathname === '/api/v1/session') {
      if (origin === undefined || !showsSecret(String((body as { secret?: unknown } | undefined)?.secret ?? ''))) {
        return refuse(res, 401, 'ERR_UNAUTHORIZED', 'wrong or missing UI secret: open the link `aerie ui` prints')
      }
      const session = randomBytes(32).toString('base64url')
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.values().next().value!)
      sessions.add(session)
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'set-cookie': `${cookieName}=${session}; Path=/; HttpOnly; SameSite=Strict` })
      res.end('{"ok":true}')
      return
    }

    const auth = req.headers.authorization
    const bearer = auth?.startsWith('Bearer ') === true && showsSecret(auth.slice(7))
    const session = bearer ? undefined : sessionOf(req)
    if (!bearer && session === undefined) return refuse(res, 401, 'ERR_UNAUTHORIZED', 'wrong or missing UI secret: open the link `aerie ui` prints')
    // A cookie is sent by the browser on its own: a change must also prove it comes from our page.
    if (!bearer && write && origin === undefined) return refuse(res, 403, 'ERR_ORIGIN', 'a change needs the Origin header')

    if (req.method === 'GET' && url.pathname === '/api/v1/events') return openStream(res)
    const route = options.routes[`${req.method} ${url.pathname}`]
    if (route === undefined) return refuse(res, 404, 'ERR_NOT_FOUND', `no route ${req.method} ${url.pathname}`)
    try {
      const result = await route({ body, query: url.searchParams })
      if (result instanceof FileResult) return result.send(res, SECURITY_HEADERS)
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' })
      res.end(JSON.stringify(result ?? {}))
    } catch (err) {
      if (err instanceof AerieError) return refuse(res, 400, err.code, err.message)
      refuse(res, 500, 'ERR_INTERNAL', (err as Error).message)
    }
  }

  function serveStatic (req: IncomingMessage, res: ServerResponse, pathname: string): void {
    const file = files.get(pathname === '/' ? '/index.html' : pathname)
    if ((req.method !== 'GET' && req.method !== 'HEAD') || file === undefined) return refuse(res, 404, 'ERR_NOT_FOUND', 'no such page')
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type })
    res.end(req.method === 'HEAD' ? undefined : file.body)
  }

  function openStream (res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' })
    streams.add(res)
    res.on('close', () => { streams.delete(res); if (streams.size === 0) clearInterval(tickTimer) })
    if (streams.size === 1) tickTimer = setInterval(schedulePush, TICK_MS)
    schedulePush(0)
  }

  function schedulePush (delay = PUSH_MS): void {
    if (pushTimer !== undefined || streams.size === 0) return
    pushTimer = setTimeout(() => {
      // Cleared first: a change while the snapshot is built gets a push of its own.
      pushTimer = undefined
      options.snapshot().then((status) => {
        const event = `event: status\ndata: ${JSON.stringify(status)}\n\n`
        for (const stream of streams) stream.write(event)
      }, () => {})
    }, delay)
  }

  const unsubscribe = options.subscribe(() => { schedulePush() })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => { resolve() })
  })
  port = (server.address() as AddressInfo).port
  // Cookies do not tell ports apart: two agents on one machine must not share one.
  cookieName = `aerie-ui-${port}`
  return {
    url: `http://127.0.0.1:${port}`,
    async close () {
      unsubscribe()
      clearTimeout(pushTimer)
      clearInterval(tickTimer)
      for (const stream of streams) stream.end()
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

/** Every file of the UI and its libraries, read once: nothing else can be named. */
async function loadStatic (dir: string): Promise<Map<string, { type: string, body: Buffer }>> {
  const files = new Map<string, { type: string, body: Buffer }>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const type = TYPES[extname(entry.name)]
    if (!entry.isFile() || type === undefined) continue
    const path = join(entry.parentPath, entry.name)
    files.set('/' + path.slice(dir.length).split(/[\\/]/).filter(Boolean).join('/'), { type, body: await readFile(path) })
  }
  for (const [urlPath, file] of Object.entries(LIBRARIES)) {
    files.set(urlPath, { type: TYPES['.js']!, body: await readFile(fileURLToPath(import.meta.resolve(file))) })
  }
  return files
}
