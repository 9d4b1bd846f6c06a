/** Certificate-authenticated libp2p links: see host.ts and certificate-encrypter.ts. */
export { createAerieHost, CRL_PROTOCOL } from './host.ts'
export type { AerieHost, AerieHostInit, ConnectedDevice } from './host.ts'
export { certificateEncrypter, AERIE_ENCRYPTER_PROTOCOL } from './certificate-encrypter.ts'
export { createEnrollmentIssuer } from './enrollment-issuer.ts'
export { TrustStore } from './trust-store.ts'
export { RateLimiter } from './rate-limiter.ts'
export type { PeerTrust, EnrollmentIssuer, EnrollmentTicket } from './peer-trust.ts'
export { tuneHeapForTransfers } from './heap-tuning.ts'
