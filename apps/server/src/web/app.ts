import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifyStatic from '@fastify/static'
import fastifySwagger from '@fastify/swagger'
import Fastify from 'fastify'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { createApiTokens } from '../accounts/api-tokens.ts'
import { createLoginThrottle, DEFAULT_THROTTLE } from '../accounts/login-throttle.ts'
import type { ThrottlePolicy } from '../accounts/login-throttle.ts'
import { hashPassword } from '../accounts/password.ts'
import { newSecret } from '../accounts/secrets.ts'
import { createSessions, DEFAULT_SESSION_POLICY } from '../accounts/sessions.ts'
import type { SessionPolicy } from '../accounts/sessions.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { ServerMetadata } from '../metadata/stores.ts'
import { sharePages } from '../share/public-pages.ts'
import { createShareLinks } from '../share/share-links.ts'
import { createShareUnlock } from '../share/share-unlock.ts'
import { installAccessControl } from './auth.ts'
import type { RouteAccess, WebContext } from './context.ts'
import type { TeamServerApi } from '../team-server-api.ts'
import { docsRoutes } from './routes/docs-routes.ts'
import { errorBodySchema, installErrorHandling } from './errors.ts'
import { auditRoutes } from './routes/audit-routes.ts'
import { backupRoutes } from './routes/backup-routes.ts'
import { backupSnapshotRoutes } from './routes/backup-snapshot-routes.ts'
import { deviceRoutes } from './routes/device-routes.ts'
import { fileRoutes } from './routes/file-routes.ts'
import { folderRoutes } from './routes/folder-routes.ts'
import { sessionRoutes } from './routes/session-routes.ts'
import { shareRoutes } from './routes/share-routes.ts'
import { tokenRoutes } from './routes/token-routes.ts'
import { twoFactorRoutes } from './routes/two-factor-routes.ts'
import { userRoutes } from './routes/user-routes.ts'

export interface WebAppOptions {
  /** The running team server (team-server.ts); with setFolderMember, admins manage folder members too. */
  api: TeamServerApi
  /** The metadata database (metadata/server-db.ts: openServerMetadata). */
  metadata: ServerMetadata
  /** The audit log over metadata.audit (audit/audit-log.ts: createAuditLog); the server records its own events in it too. */
  audit: AuditLog
  /** The one-time token of the setup URL (`/setup?token=…`); setup is refused without it, and once an admin exists. */
  setupToken?: string
  /** Secure cookies (and HSTS). Turn off only for plain HTTP on 127.0.0.1. */
  secureCookies: boolean
  /** Fastify's trustProxy: believe X-Forwarded-For from these proxies (true, a hop count, or addresses/CIDRs). */
  trustProxy?: FastifyServerOptions['trustProxy']
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { key: string | Buffer, cert: string | Buffer }
  /** One line per unexpected error (the audit log records the security events). */
  log?: (line: string) => void
  throttle?: ThrottlePolicy
  sessions?: SessionPolicy
  /** The clock, for tests. */
  now?: () => Date
}

export interface WebRoute { method: string, url: string, access?: RouteAccess }

const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url))
/** The DOM helpers the console shares with the desktop UI (ui/dom.js re-exports them), read once. */
const UI_KIT_DOM = readFileSync(fileURLToPath(import.meta.resolve('@aerie/ui-kit/dom.js')))
const routeLists = new WeakMap<FastifyInstance, WebRoute[]>()

// No inline script or style anywhere, so the policy can forbid both; QR codes are data: images.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/**
 * The team server's web layer: the admin API under /api/v1 (JSON schemas on every route, OpenAPI
 * at /api/openapi.json), and the admin console's static files at /. The caller listens on it.
 */
export async function buildWebApp (options: WebAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    ...(options.https === undefined ? {} : { https: options.https }),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 64 * 1024,
    // Refuse what does not match a schema instead of quietly dropping or converting it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } }
  }) as unknown as FastifyInstance

  const routes: WebRoute[] = []
  routeLists.set(app, routes)
  app.addHook('onRoute', route => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, ...(route.config?.access === undefined ? {} : { access: route.config.access }) })
  })

  const log = options.log ?? (() => {})
  const ctx: WebContext = {
    api: options.api,
    accounts: options.metadata.accounts,
    sessions: createSessions(options.metadata.sessions, options.sessions ?? DEFAULT_SESSION_POLICY),
    apiTokens: createApiTokens(options.metadata.apiTokens),
    throttle: createLoginThrottle(options.metadata.loginFailures, options.throttle ?? DEFAULT_THROTTLE),
    audit: options.audit,
    ...(options.setupToken === undefined ? {} : { setupToken: options.setupToken }),
    secureCookies: options.secureCookies,
    // The __Host- prefix makes the browser insist on Secure, Path=/ and no Domain.
    sessionCookie: options.secureCookies ? '__Host-aerie-session' : 'aerie-session',
    now: options.now ?? (() => new Date()),
    log,
    decoyPasswordHash: await hashPassword(newSecret())
  }

  const shares = createShareLinks({ api: options.api, store: options.metadata.shares })

  app.addSchema(errorBodySchema)
  installErrorHandling(app, log)
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('Content-Security-Policy', CSP)
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('X-Frame-Options', 'DENY')
    reply.header('Cross-Origin-Opener-Policy', 'same-origin')
    reply.header('Cross-Origin-Resource-Policy', 'same-origin')
    if (options.secureCookies) reply.header('Strict-Transport-Security', 'max-age=31536000')
    if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store')
    return payload
  })

  await app.register(fastifyCookie)
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Aerie team server admin API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: ctx.sessionCookie, description: 'plus the X-CSRF-Token header on state-changing requests' },
          token: { type: 'http', scheme: 'bearer', description: 'an API token (aerie_…)' }
        }
      },
      security: [{ session: [] }, { token: [] }]
    }
  })

  await app.register(async api => {
    installAccessControl(api, ctx)
    for (const plugin of [sessionRoutes, twoFactorRoutes, userRoutes, deviceRoutes, folderRoutes, fileRoutes, auditRoutes, tokenRoutes, backupRoutes, backupSnapshotRoutes]) {
      await api.register(plugin(ctx))
    }
    await api.register(shareRoutes(ctx, shares))
  }, { prefix: '/api/v1' })

  await app.register(docsRoutes())
  await app.register(sharePages({
    api: options.api,
    shares,
    unlock: createShareUnlock({ accounts: options.metadata.accounts, loginFailures: options.metadata.loginFailures, secureCookies: options.secureCookies }),
    audit: options.audit,
    now: ctx.now,
    log
  }), { prefix: '/s' })
  await app.register(fastifyStatic, { root: UI_DIR, prefix: '/', index: ['index.html'], cacheControl: false })
  app.get('/setup', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.sendFile('index.html'))
  app.get('/kit/dom.js', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(UI_KIT_DOM))
  return app
}

/** Every route the app registered (method, URL, who may call it): tests walk this so no route is forgotten. */
export function webRoutes (app: FastifyInstance): WebRoute[] {
  return [...(routeLists.get(app) ?? [])]
}
