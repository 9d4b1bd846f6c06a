import type { DeviceIdentity } from '../pki/index.ts'

/**
 * What the connection encrypter needs to know about trust, and nothing more. The
 * agent implements it over its state directory (see trust-store.ts); tests can build
 * one over a CA made in memory.
 */
export interface PeerTrust {
  /** Our certificate and the organisation's CA certificate; undefined until enrolled. */
  credentials(): { certificate: string, ca: string } | undefined
  /** The newest CRL we hold (DER), passed to every peer we meet. */
  crl(): Uint8Array | undefined
  /** A peer handed us a CRL: adopt it if it is genuine and newer, ignore it otherwise. */
  offerCrl(der: Uint8Array): void
  /** Throws a typed error unless `certificate` is a valid, unrevoked device of our CA for this peer key. */
  verifyPeer(certificate: string, peerSpki: Uint8Array): DeviceIdentity
}

/** The CA holder's side of enrollment. */
export interface EnrollmentIssuer {
  /** Throws RateLimitedError when `remoteAddress` has tried too often. */
  admit(remoteAddress: string): void
  /** Redeems the code and issues a certificate for the CSR, whose key must be `peerSpki`. */
  issue(request: { secret: Uint8Array, csr: string, peerSpki: Uint8Array, remoteAddress: string }): Promise<string>
}

/** A not-yet-enrolled device's side: what `aerie enroll CODE` brings to the connection. */
export interface EnrollmentTicket {
  secret: Uint8Array
  /** Hex prefix of the CA certificate's SHA-256, from the code: the CA we expect to meet. */
  caFingerprintPrefix: string
  csr: string
  /** Called once the CA holder has issued our certificate, before the connection completes. */
  onEnrolled(result: { certificate: string, ca: string, crl?: Uint8Array, caHolder: DeviceIdentity }): void
}
