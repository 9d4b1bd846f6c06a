import { randomUUID } from 'node:crypto'
import { InvalidInputError, isValidEmail } from '@aerie/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { AuthenticationError, ConflictError, ForbiddenError } from '../../accounts/errors.ts'
import { checkPasswordRule, hashPassword, needsRehash, verifyPassword } from '../../accounts/password.ts'
import { hashRecoveryCode, isRecoveryCodeShape } from '../../accounts/recovery-codes.ts'
import { sameSecret } from '../../accounts/secrets.ts'
import { matchTotp } from '../../accounts/totp.ts'
import type { UserRecord } from '../../metadata/stores.ts'
import { actorOf, clearSessionCookie, principalOf, sessionPrincipalOf, startSession } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import {
  closed, codeSchema, emailSchema, emptyBody, okSchema, orgSchema, passwordSchema, signedInSchema, userSchema, userView
} from '../schemas.ts'

const SETUP_DONE = 'setup_completed_at'

/** First-admin setup, sign-in (password, then a TOTP or recovery code when 2FA is on), sign-out, and who am I. */
export function sessionRoutes (ctx: WebContext): FastifyPluginAsync {
  const { accounts, audit, throttle } = ctx

  const signedIn = (request: FastifyRequest, reply: FastifyReply, user: UserRecord, factors: string) => {
    const csrfToken = startSession(ctx, request, reply, user)
    audit.record({ actor: user.email, action: 'login.succeeded', target: user.email, detail: { factors }, address: request.ip }, ctx.now())
    return { status: 'signed-in' as const, user: userView(user, accounts.recoveryCodesLeft(user.id)), csrfToken }
  }

  const failed = (request: FastifyRequest, account: string, reason: string, message: string): never => {
    const now = ctx.now()
    audit.record({ actor: account, action: 'login.failed', target: account, detail: { reason }, address: request.ip }, now)
    for (const key of throttle.failure({ account, address: request.ip }, now)) {
      audit.record({ actor: 'system', action: 'login.locked', target: key, detail: { after: reason }, address: request.ip }, now)
    }
    throw new AuthenticationError(message)
  }

  return async app => {
    app.post<{ Body: { token: string, email: string, password: string } }>('/setup', {
      config: { access: 'public' },
      schema: {
        summary: 'Create the first administrator with the one-time setup token the server printed',
        tags: ['session'],
        body: closed({ token: { type: 'string', minLength: 1, maxLength: 256 }, email: emailSchema, password: passwordSchema }),
        response: responses(signedInSchema)
      }
    }, async (request, reply) => {
      const { token, email, password } = request.body
      const now = ctx.now()
      if (accounts.getSetting(SETUP_DONE) !== undefined || accounts.countAdmins() > 0) {
        throw new ConflictError('setup is already done; sign in instead')
      }
      if (ctx.setupToken === undefined) throw new ConflictError('this server was started without a setup token; restart it to print a new setup URL')
      throttle.check({ account: 'setup', address: request.ip }, now)
      if (!sameSecret(token, ctx.setupToken)) {
        audit.record({ actor: 'anonymous', action: 'setup.refused', target: email, detail: { reason: 'wrong setup token' }, address: request.ip }, now)
        throttle.failure({ account: 'setup', address: request.ip }, now)
        throw new ForbiddenError('the setup token is wrong; open the setup URL the server printed when it first started')
      }
      if (!isValidEmail(email)) throw new InvalidInputError(`"${email}" does not look like an email address, e.g. ada@example.org`)
      checkPasswordRule(password)
      const passwordHash = await hashPassword(password)
      // One statement decides, so two setup requests racing cannot both make an admin.
      if (!accounts.setSettingOnce(SETUP_DONE, now.toISOString())) throw new ConflictError('setup is already done; sign in instead')
      const user = accounts.createUser({ id: randomUUID(), email, role: 'admin', passwordHash, createdAt: now })
      audit.record({ actor: email, action: 'setup.completed', target: email, detail: { role: 'admin' }, address: request.ip }, now)
      return signedIn(request, reply, user, 'setup')
    })

    app.post<{ Body: { email: string, password: string } }>('/login', {
      config: { access: 'public' },
      schema: {
        summary: 'Sign in with email and password; when two-step sign-in is on, answers with a ticket for /login/second-factor',
        tags: ['session'],
        body: closed({ email: emailSchema, password: passwordSchema }),
        response: responses({
          oneOf: [signedInSchema, closed({ status: { type: 'string', enum: ['second-factor'] }, ticket: { type: 'string' } })]
        })
      }
    }, async (request, reply) => {
      const { email, password } = request.body
      const attempt = { account: email.toLowerCase(), address: request.ip }
      throttle.check(attempt, ctx.now())
      const user = accounts.userByEmail(email)
      const right = await verifyPassword(password, user?.passwordHash ?? ctx.decoyPasswordHash)
      if (user === undefined || !right) return failed(request, attempt.account, 'wrong email or password', 'the email or password is wrong')
      if (user.disabledAt !== undefined) return failed(request, attempt.account, 'account disabled', 'this account is disabled; ask an administrator')
      if (needsRehash(user.passwordHash)) accounts.setPasswordHash(user.id, await hashPassword(password))
      if (user.totpSecret !== undefined) {
        return { status: 'second-factor' as const, ticket: ctx.sessions.startTicket(user.id, ctx.now()) }
      }
      throttle.success(attempt)
      return signedIn(request, reply, user, 'password')
    })

    app.post<{ Body: { ticket: string, code: string } }>('/login/second-factor', {
      config: { access: 'public' },
      schema: {
        summary: 'Finish signing in with the authenticator app\'s code, or a recovery code',
        tags: ['session'],
        body: closed({ ticket: { type: 'string', minLength: 1, maxLength: 128 }, code: codeSchema }),
        response: responses(signedInSchema)
      }
    }, async (request, reply) => {
      const { ticket, code } = request.body
      const now = ctx.now()
      const userId = ctx.sessions.ticketUser(ticket, now)
      const user = userId === undefined ? undefined : accounts.userById(userId)
      if (user === undefined || user.totpSecret === undefined || user.disabledAt !== undefined) {
        throw new AuthenticationError('this sign-in took too long or is already finished; sign in again')
      }
      const attempt = { account: user.email.toLowerCase(), address: request.ip }
      throttle.check(attempt, now)
      let factor: string
      if (isRecoveryCodeShape(code)) {
        if (!accounts.useRecoveryCode(user.id, hashRecoveryCode(code), now)) {
          return failed(request, attempt.account, 'wrong recovery code', 'that recovery code is wrong or was already used')
        }
        factor = 'password+recovery-code'
        audit.record({ actor: user.email, action: 'recovery_code.used', target: user.email, detail: { left: accounts.recoveryCodesLeft(user.id) }, address: request.ip }, now)
      } else {
        const step = matchTotp(user.totpSecret, code, now)
        if (step === undefined || !accounts.useTotpStep(user.id, step)) {
          return failed(request, attempt.account, 'wrong or reused TOTP code', 'the code is wrong or was already used; type the code your app shows now')
        }
        factor = 'password+totp'
      }
      ctx.sessions.finishTicket(ticket)
      throttle.success(attempt)
      return signedIn(request, reply, user, factor)
    })

    app.post('/logout', {
      config: { access: 'user' },
      schema: { summary: 'Sign out (ends this session)', tags: ['session'], body: emptyBody, response: responses(okSchema) }
    }, async (request, reply) => {
      const principal = principalOf(request)
      const cookie = request.cookies[ctx.sessionCookie]
      if (principal.via === 'session' && cookie !== undefined) ctx.sessions.end(cookie)
      clearSessionCookie(reply, ctx)
      audit.record({ actor: actorOf(request), action: 'logout', target: principal.user.email, address: request.ip }, ctx.now())
      return { ok: true }
    })

    app.get('/me', {
      config: { access: 'user' },
      schema: {
        summary: 'The signed-in user, the session\'s CSRF token (for X-CSRF-Token), and the organisation',
        tags: ['session'],
        response: responses(closed({ user: userSchema, csrfToken: { type: 'string' }, org: orgSchema }, ['user', 'org']))
      }
    }, async request => {
      const principal = principalOf(request)
      return {
        user: userView(principal.user, accounts.recoveryCodesLeft(principal.user.id)),
        ...(principal.session === undefined ? {} : { csrfToken: principal.session.csrfToken }),
        org: ctx.api.org()
      }
    })

    app.post<{ Body: { currentPassword: string, newPassword: string } }>('/me/password', {
      config: { access: 'user' },
      schema: {
        summary: 'Change your password (signs out your other sessions)',
        tags: ['session'],
        body: closed({ currentPassword: passwordSchema, newPassword: passwordSchema }),
        response: responses(signedInSchema)
      }
    }, async (request, reply) => {
      const { user } = sessionPrincipalOf(request)
      const attempt = { account: user.email.toLowerCase(), address: request.ip }
      throttle.check(attempt, ctx.now())
      if (!await verifyPassword(request.body.currentPassword, user.passwordHash)) {
        return failed(request, attempt.account, 'wrong current password', 'the current password is wrong')
      }
      checkPasswordRule(request.body.newPassword)
      accounts.setPasswordHash(user.id, await hashPassword(request.body.newPassword))
      ctx.sessions.endAllOf(user.id)
      audit.record({ actor: user.email, action: 'password.changed', target: user.email, address: request.ip }, ctx.now())
      return signedIn(request, reply, user, 'password-change')
    })
  }
}
