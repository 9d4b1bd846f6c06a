import { AerieError } from '@aerie/core'
import type { FastifyError, FastifyInstance } from 'fastify'
import { LoginLockedError } from '../accounts/errors.ts'

/** The one error body every route sends: `{ error: { code, message } }`. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } }
    }
  }
} as const

// Each error code's HTTP status, in one place (docs/errors.md lists the codes).
const STATUS: Record<string, number> = {
  ERR_INVALID_INPUT: 400,
  ERR_ENROLLMENT: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_CSRF: 403,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  // A damaged directory object: collecting would have to guess what it names.
  ERR_GC_REFUSED: 409,
  ERR_RATE_LIMITED: 429,
  ERR_NOT_CONFIGURED: 503,
  ERR_CA_LOCKED: 503,
  // A version whose chunks the store lost: the server's fault, not the request's.
  ERR_STORE_DAMAGED: 500
}

export function installErrorHandling (app: FastifyInstance, log: (line: string) => void): void {
  app.setErrorHandler((err: FastifyError | AerieError | Error, request, reply) => {
    const send = (status: number, code: string, message: string): void => {
      void reply.code(status).type('application/json').send({ error: { code, message } })
    }
    if ('validation' in err && err.validation !== undefined) {
      // Ajv says "must NOT have additional properties" without naming it; name it.
      const extra = err.validation[0]?.params.additionalProperty
      send(400, 'ERR_INVALID_INPUT', typeof extra === 'string' ? `${err.message}: "${extra}" is not a field here` : err.message)
      return
    }
    if (err instanceof AerieError) {
      if (err instanceof LoginLockedError) void reply.header('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)))
      const status = STATUS[err.code] ?? 400
      if (status === 500) log(`web: ${request.method} ${request.url} failed: ${err.code}: ${err.message}`)
      send(status, err.code, err.message)
      return
    }
    // Fastify's own client errors: unparsable JSON, an empty body, a wrong content type, too large.
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500
    if (status >= 400 && status < 500) {
      const message = status === 415
        ? 'send the body as JSON, with Content-Type: application/json'
        : err.message
      send(status, 'ERR_INVALID_INPUT', message)
      return
    }
    log(`web: ${request.method} ${request.url} failed: ${err.stack ?? err.message}`)
    send(500, 'ERR_INTERNAL', 'the server met an unexpected error; it has been logged')
  })

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message: `there is no ${request.method} ${request.url.split('?')[0]}; see /api/docs` } })
  })
}

/** Response schemas for a route: its success body, and the error body for everything else. */
export function responses (ok: object, status = 200): Record<string, unknown> {
  return { [status]: ok, '4xx': { $ref: 'ErrorBody#' }, '5xx': { $ref: 'ErrorBody#' } }
}
