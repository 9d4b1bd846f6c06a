import { randomUUID } from 'node:crypto'
import { InvalidInputError, isValidEmail } from '@aerie/core'
import type { FastifyPluginAsync } from 'fastify'
import { ConflictError, NotFoundError } from '../../accounts/errors.ts'
import { checkPasswordRule, hashPassword } from '../../accounts/password.ts'
import type { Role, UserRecord } from '../../metadata/stores.ts'
import { actorOf, principalOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, emailSchema, emptyBody, idParams, passwordSchema, roleSchema, userSchema, userView } from '../schemas.ts'

/** Users (administrators only): list, create with a first password, disable, enable, reset a lost second factor. */
export function userRoutes (ctx: WebContext): FastifyPluginAsync {
  const { accounts, audit } = ctx
  const view = (user: UserRecord) => userView(user, accounts.recoveryCodesLeft(user.id))
  const find = (id: string): UserRecord => {
    const user = accounts.userById(id)
    if (user === undefined) throw new NotFoundError(`there is no user with id ${id}; list the users to see their ids`)
    return user
  }
  const userResponse = responses(closed({ user: userSchema }))

  return async app => {
    app.get('/users', {
      config: { access: 'admin' },
      schema: { summary: 'All users', tags: ['users'], response: responses(closed({ users: { type: 'array', items: userSchema } })) }
    }, async () => ({ users: accounts.listUsers().map(view) }))

    app.post<{ Body: { email: string, role: Role, password: string } }>('/users', {
      config: { access: 'admin' },
      schema: {
        summary: 'Create a user with a first password (they can change it, and turn on two-step sign-in)',
        tags: ['users'],
        body: closed({ email: emailSchema, role: roleSchema, password: passwordSchema }),
        response: responses(closed({ user: userSchema }))
      }
    }, async request => {
      const { email, role, password } = request.body
      if (!isValidEmail(email)) throw new InvalidInputError(`"${email}" does not look like an email address, e.g. ada@example.org`)
      checkPasswordRule(password)
      const user = accounts.createUser({ id: randomUUID(), email, role, passwordHash: await hashPassword(password), createdAt: ctx.now() })
      audit.record({ actor: actorOf(request), action: 'user.created', target: email, detail: { role, ...viaOf(request) }, address: request.ip }, ctx.now())
      return { user: view(user) }
    })

    app.post<{ Params: { id: string } }>('/users/:id/disable', {
      config: { access: 'admin' },
      schema: { summary: 'Disable a user: their sessions end and their API tokens stop working', tags: ['users'], params: idParams, body: emptyBody, response: userResponse }
    }, async request => {
      const user = find(request.params.id)
      if (user.id === principalOf(request).user.id) throw new ConflictError('you cannot disable your own account; ask another administrator')
      const activeAdmins = accounts.listUsers().filter(u => u.role === 'admin' && u.disabledAt === undefined)
      if (user.role === 'admin' && activeAdmins.length <= 1) throw new ConflictError('this is the last active administrator')
      if (user.disabledAt === undefined) {
        accounts.setDisabled(user.id, ctx.now())
        ctx.sessions.endAllOf(user.id)
        audit.record({ actor: actorOf(request), action: 'user.disabled', target: user.email, detail: viaOf(request), address: request.ip }, ctx.now())
      }
      return { user: view(find(user.id)) }
    })

    app.post<{ Params: { id: string } }>('/users/:id/enable', {
      config: { access: 'admin' },
      schema: { summary: 'Enable a disabled user again', tags: ['users'], params: idParams, body: emptyBody, response: userResponse }
    }, async request => {
      const user = find(request.params.id)
      if (user.disabledAt !== undefined) {
        accounts.setDisabled(user.id, undefined)
        audit.record({ actor: actorOf(request), action: 'user.enabled', target: user.email, detail: viaOf(request), address: request.ip }, ctx.now())
      }
      return { user: view(find(user.id)) }
    })

    app.post<{ Params: { id: string } }>('/users/:id/reset-two-factor', {
      config: { access: 'admin' },
      schema: {
        summary: 'Turn off a user\'s two-step sign-in (a lost phone and no recovery codes); their sessions end',
        tags: ['users'], params: idParams, body: emptyBody, response: userResponse
      }
    }, async request => {
      const user = find(request.params.id)
      accounts.setTotp(user.id, {})
      accounts.replaceRecoveryCodes(user.id, [])
      ctx.sessions.endAllOf(user.id)
      audit.record({ actor: actorOf(request), action: 'totp.reset', target: user.email, detail: viaOf(request), address: request.ip }, ctx.now())
      return { user: view(find(user.id)) }
    })
  }
}
