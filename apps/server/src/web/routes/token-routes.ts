import { InvalidInputError, isValidName, NAME_RULE } from '@aerie/core'
import type { FastifyPluginAsync } from 'fastify'
import { NotFoundError } from '../../accounts/errors.ts'
import type { ApiTokenRecord } from '../../metadata/stores.ts'
import { actorOf, principalOf, sessionPrincipalOf, viaOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { apiTokenSchema, closed, idParams } from '../schemas.ts'

/** API tokens for automation: your own (an administrator may revoke anyone's); the secret is shown once. */
export function tokenRoutes (ctx: WebContext): FastifyPluginAsync {
  const view = (t: ApiTokenRecord) => ({
    id: t.id,
    name: t.name,
    createdAt: t.createdAt.toISOString(),
    ...(t.lastUsedAt === undefined ? {} : { lastUsedAt: t.lastUsedAt.toISOString() }),
    ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt.toISOString() })
  })

  return async app => {
    app.get('/tokens', {
      config: { access: 'user' },
      schema: { summary: 'Your API tokens (never their secrets)', tags: ['tokens'], response: responses(closed({ tokens: { type: 'array', items: apiTokenSchema } })) }
    }, async request => ({ tokens: ctx.apiTokens.list(principalOf(request).user.id).map(view) }))

    app.post<{ Body: { name: string } }>('/tokens', {
      config: { access: 'user' },
      schema: {
        summary: 'A new API token, acting as you: send it as `Authorization: Bearer …`. Shown only in this answer.',
        tags: ['tokens'],
        body: closed({ name: { type: 'string', minLength: 1, maxLength: 64 } }),
        response: responses(closed({ token: { type: 'string' }, record: apiTokenSchema }))
      }
    }, async request => {
      const { user } = sessionPrincipalOf(request)
      if (!isValidName(request.body.name)) throw new InvalidInputError(`the token name ${NAME_RULE}`)
      const { token, record } = ctx.apiTokens.issue(user.id, request.body.name, ctx.now())
      ctx.audit.record({ actor: actorOf(request), action: 'api_token.created', target: record.id, detail: { name: record.name, ...viaOf(request) }, address: request.ip }, ctx.now())
      return { token, record: view(record) }
    })

    app.delete<{ Params: { id: string } }>('/tokens/:id', {
      config: { access: 'user' },
      schema: {
        summary: 'Revoke an API token',
        tags: ['tokens'],
        params: idParams,
        response: responses(closed({ token: apiTokenSchema }))
      }
    }, async request => {
      const { user } = principalOf(request)
      const token = ctx.apiTokens.get(request.params.id)
      if (token === undefined || (token.userId !== user.id && user.role !== 'admin')) {
        throw new NotFoundError(`you have no API token with id ${request.params.id}`)
      }
      if (ctx.apiTokens.revoke(token.id, ctx.now())) {
        ctx.audit.record({ actor: actorOf(request), action: 'api_token.revoked', target: token.id, detail: { name: token.name, ...viaOf(request) }, address: request.ip }, ctx.now())
      }
      return { token: view(ctx.apiTokens.get(token.id)!) }
    })
  }
}
