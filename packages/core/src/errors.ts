/**
 * Errors a user can meet. Each has a stable `code` (documented in docs/errors.md)
 * and a message that says what to do next.
 */
export class AerieError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A certificate, CSR or CRL could not be parsed or is not what it claims to be. */
export class InvalidCertificateError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_INVALID_CERTIFICATE', message, options) }
}

/** The peer's certificate is fine as a document but must not be trusted. */
export class UntrustedPeerError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_UNTRUSTED_PEER', message, options) }
}

/** The peer's certificate has been revoked by the organisation. */
export class RevokedDeviceError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_DEVICE_REVOKED', message, options) }
}

/** A CRL that is malformed, forged, or older than the one we hold. */
export class InvalidCrlError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_INVALID_CRL', message, options) }
}

/** An enrollment code that is mistyped, unknown, expired or already used. */
export class EnrollmentError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_ENROLLMENT', message, options) }
}

/** Too many attempts from one place; try again later. */
export class RateLimitedError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_RATE_LIMITED', message, options) }
}

/** The CA key passphrase is wrong, or the CA key is not available on this device. */
export class CaLockedError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_CA_LOCKED', message, options) }
}

/** The device's state directory is missing something a command needs. */
export class NotConfiguredError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_NOT_CONFIGURED', message, options) }
}

/** A peer broke the wire protocol (malformed, oversized or unexpected message). */
export class ProtocolError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_PROTOCOL', message, options) }
}

/** A value a person gave (a name, an email address, a passphrase, a device to find) is not acceptable. */
export class InvalidInputError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_INVALID_INPUT', message, options) }
}

/** A private key file is damaged or is not a key Aerie can use. */
export class InvalidKeyError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_INVALID_KEY', message, options) }
}

/** The peer refused our handshake; `peerCode` is the code it gave (e.g. ERR_DEVICE_REVOKED). */
export class PeerRefusedError extends AerieError {
  readonly peerCode: string

  constructor (peerCode: string, message: string, options?: ErrorOptions) {
    super('ERR_PEER_REFUSED', `peer refused the connection: ${message}`, options)
    this.peerCode = peerCode
  }
}

/** The passphrase does not open the store's data key (or the key file was altered). */
export class WrongPassphraseError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_WRONG_PASSPHRASE', message, options) }
}

/** A device's disk has too little free space for a file: it is not written (the disk keeps a share free). */
export class DiskFullError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_DISK_FULL', message, options) }
}

/** The disk holding a store is full (or over its quota): what was being stored was not, and the store is as it was. */
export class StoreFullError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_STORE_FULL', message, options) }
}

/** Stored bytes no longer verify: a chunk or blob was changed, cut short or lost on disk. */
export class StoreDamagedError extends AerieError {
  constructor (message: string, options?: ErrorOptions) { super('ERR_STORE_DAMAGED', message, options) }
}
