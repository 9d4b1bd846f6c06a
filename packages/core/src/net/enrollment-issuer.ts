import { timingSafeEqual } from 'node:crypto'
import { EnrollmentError } from '../errors.ts'
import { hashEnrollmentSecret, issueDeviceCertificate, readCsr } from '../pki/index.ts'
import { RateLimiter } from './rate-limiter.ts'
import type { EnrollmentIssuer } from './peer-trust.ts'
import type { CaKey, CaStore } from '../pki/index.ts'

export interface EnrollmentIssuerInit {
  caCertPem: string
  caKey: CaKey
  store: CaStore
  /** Attempts allowed per client address per window (default 10 a minute). */
  attemptsPerWindow?: number
  windowMs?: number
  /** Called with every issued certificate and every failed attempt, for the audit log. */
  audit?(event: { action: 'enrolled' | 'enrollment-refused', remoteAddress: string, detail: string }): void
}

/**
 * The CA holder's enrollment desk: checks the one-time code, checks that the CSR's key
 * is the key the device proved in the Noise handshake (so a code cannot be used to
 * certify someone else's key), issues and records the certificate.
 */
export function createEnrollmentIssuer (init: EnrollmentIssuerInit): EnrollmentIssuer {
  const limiter = new RateLimiter({ limit: init.attemptsPerWindow ?? 10, windowMs: init.windowMs ?? 60_000 })
  return {
    admit (remoteAddress) {
      limiter.take(hostOf(remoteAddress))
    },
    async issue ({ secret, csr, peerSpki, remoteAddress }) {
      try {
        const request = readCsr(csr)
        if (request.spkiDer.byteLength !== peerSpki.byteLength || !timingSafeEqual(request.spkiDer, peerSpki)) {
          throw new EnrollmentError('the certificate request is not for the key this device connected with')
        }
        const grant = init.store.redeemEnrollmentCode(hashEnrollmentSecret(secret), new Date())
        const deviceName = grant.deviceName ?? request.deviceName
        const issued = issueDeviceCertificate({ caCertPem: init.caCertPem, caKey: init.caKey, csrPem: csr, user: grant.user, deviceName })
        init.store.recordIssued({
          serial: issued.serial,
          deviceId: issued.deviceId,
          peerId: issued.peerId,
          user: grant.user,
          deviceName,
          certPem: issued.certPem,
          issuedAt: new Date()
        })
        init.audit?.({ action: 'enrolled', remoteAddress, detail: `${issued.deviceId} ${deviceName} for ${grant.user}` })
        return issued.certPem
      } catch (err) {
        init.audit?.({ action: 'enrollment-refused', remoteAddress, detail: (err as Error).message })
        throw err
      }
    }
  }
}

/** The client's IP: rate limits apply per machine, not per source port. */
function hostOf (remoteAddress: string): string {
  return /^\/ip[46]\/([^/]+)/.exec(remoteAddress)?.[1] ?? remoteAddress
}
