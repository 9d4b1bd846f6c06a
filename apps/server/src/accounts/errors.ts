import { AerieError, RateLimitedError } from '@aerie/core'

// The team server's own errors (documented in docs/errors.md beside core's). The web layer maps
// each code to an HTTP status in one place (web/errors.ts).

/** No valid session or API token, or a wrong password / second factor. */
export class AuthenticationError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_UNAUTHENTICATED', message, options) }
}

/** Signed in, but the role or ownership does not allow this. */
export class ForbiddenError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_FORBIDDEN', message, options) }
}

/** A state-changing request with a session cookie but without the session's X-CSRF-Token. */
export class CsrfError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_CSRF', message, options) }
}

export class NotFoundError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_NOT_FOUND', message, options) }
}

/** The request contradicts the current state (an email taken, setup already done, the last admin). */
export class ConflictError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_CONFLICT', message, options) }
}

/** Too many failed logins: this account or address is locked out until `retryAfterMs` has passed. */
export class LoginLockedError extends RateLimitedError {
  readonly retryAfterMs: number

  constructor (message: string, retryAfterMs: number, options?: ErrorOptions) {
    super(message, options)
    this.retryAfterMs = retryAfterMs
  }
}
