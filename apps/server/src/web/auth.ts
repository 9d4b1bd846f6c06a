import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AuthenticationError, CsrfError, ForbiddenError } from '../accounts/errors.ts'
import type { UserRecord } from '../metadata/stores.ts'
import type { Principal, WebContext } from './context.ts'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Access control for every route of the plugin it is installed in, before the body is read:
 * a route's `config.access` says who may call it; a session cookie needs the session's
 * X-CSRF-Token on anything but GET/HEAD; an API token (Authorization: Bearer) needs none, but
 * gets exactly its user's rights.
 */
export function installAccessControl (app: FastifyInstance, ctx: WebContext): void {
  app.addHook('onRoute', route => {
    if (route.config?.access === undefined) throw new Error(`route ${route.method} ${route.url} does not say who may call it (config.access)`)
  })

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access
    if (access === 'public') return
    const principal = authenticate(request, reply, ctx)
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token']
      if (typeof sent !== 'string' || !equal(sent, principal.session!.csrfToken)) {
        throw new CsrfError('this request needs the X-CSRF-Token header from /api/v1/me; reload the page and try again')
      }
    }
    if (access !== 'user' && principal.user.role !== 'admin') throw new ForbiddenError('only an administrator may do this')
    request.principal = principal
  })
}

function authenticate (request: FastifyRequest, reply: FastifyReply, ctx: WebContext): Principal {
  const now = ctx.now()
  const authorization = request.headers.authorization
  if (authorization !== undefined) {
    const match = /^Bearer (\S+)$/i.exec(authorization)
    const token = match === null ? undefined : ctx.apiTokens.authenticate(match[1]!, now)
    if (token === undefined) throw new AuthenticationError('the API token is unknown or revoked; make a new one under Account > API tokens')
    const user = ctx.accounts.userById(token.userId)
    if (user === undefined || user.disabledAt !== undefined) throw new AuthenticationError('the API token\'s user is disabled')
    return { user, via: 'token', token }
  }
  const cookie = request.cookies[ctx.sessionCookie]
  if (cookie === undefined || cookie === '') throw new AuthenticationError('sign in first, or send an API token as Authorization: Bearer …')
  const session = ctx.sessions.resume(cookie, now)
  const user = session === undefined ? undefined : ctx.accounts.userById(session.userId)
  if (session === undefined || user === undefined || user.disabledAt !== undefined) {
    if (session !== undefined) ctx.sessions.end(cookie)
    clearSessionCookie(reply, ctx)
    throw new AuthenticationError('your session has ended; sign in again')
  }
  return { user, via: 'session', session }
}

export function principalOf (request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new AuthenticationError('sign in first')
  return request.principal
}

/**
 * For what changes how one signs in (password, two-step sign-in, new API tokens): a signed-in
 * person, not an API token, so a leaked token cannot lock its user out or outlive its revocation.
 */
export function sessionPrincipalOf (request: FastifyRequest): Principal {
  const principal = principalOf(request)
  if (principal.via !== 'session') throw new ForbiddenError('an API token cannot change sign-in settings or make tokens; do this in the console')
  return principal
}

/** How the audit log names the caller. */
export function actorOf (request: FastifyRequest): string {
  return request.principal?.user.email ?? 'anonymous'
}

/** Audit detail saying how the caller came in (session or which token). */
export function viaOf (request: FastifyRequest): Record<string, string> {
  const token = request.principal?.token
  return token === undefined ? {} : { via: `token:${token.name}` }
}

/** Starts a session for a fully signed-in user and sets its cookie; returns the CSRF token for the page. */
export function startSession (ctx: WebContext, request: FastifyRequest, reply: FastifyReply, user: UserRecord): string {
  const { sessionId, csrfToken, expiresAt } = ctx.sessions.start(user.id, request.ip, ctx.now())
  void reply.setCookie(ctx.sessionCookie, sessionId, {
    path: '/',
    httpOnly: true,
    secure: ctx.secureCookies,
    sameSite: 'strict',
    expires: expiresAt
  })
  return csrfToken
}

export function clearSessionCookie (reply: FastifyReply, ctx: WebContext): void {
  void reply.clearCookie(ctx.sessionCookie, { path: '/', httpOnly: true, secure: ctx.secureCookies, sameSite: 'strict' })
}

function equal (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
