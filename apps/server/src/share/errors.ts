import { AerieError } from '@aerie/core'

// Errors of the public share-link pages (docs/errors.md lists the codes); public-pages.ts maps
// each to its HTTP status.

/** The link expired, was revoked, served its downloads, or its snapshot's file changed. */
export class ShareGoneError extends AerieError {
  readonly reason: 'expired' | 'revoked' | 'exhausted' | 'changed'

  constructor (reason: ShareGoneError['reason'], message: string, options?: ErrorOptions) {
    super('ERR_SHARE_GONE', message, options)
    this.reason = reason
  }
}

/** An upload larger than the link allows. */
export class TooLargeError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_TOO_LARGE', message, options) }
}

/** A Range header this server cannot satisfy for a file of `size` bytes. */
export class RangeNotSatisfiableError extends AerieError {
  readonly size: number

  constructor (size: number, message: string, options?: ErrorOptions) {
    super('ERR_RANGE_NOT_SATISFIABLE', message, options)
    this.size = size
  }
}
