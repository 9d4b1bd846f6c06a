import { TypedEventEmitter } from '@libp2p/interface'
import { InvalidCrlError } from '../errors.ts'
import { isNewerCrl, parseCrl, verifyDeviceCertificate } from '../pki/index.ts'
import type { PeerTrust } from './peer-trust.ts'
import type { Crl, DeviceIdentity } from '../pki/index.ts'

export interface TrustStoreEvents {
  /** A newer, genuine CRL was adopted (from the CA holder or a peer). */
  crl: CustomEvent<Crl>
}

export interface TrustStoreInit {
  /** Our certificate and the CA's, once enrolled. */
  credentials?: { certificate: string, ca: string }
  /** The newest CRL we know (DER). */
  crl?: Uint8Array
}

/**
 * The device's trust state in memory: who we are, which CA we trust, which devices it
 * has revoked. The agent persists what changes (it listens for `crl`).
 */
export class TrustStore extends TypedEventEmitter<TrustStoreEvents> implements PeerTrust {
  private own?: { certificate: string, ca: string }
  private current?: Crl

  constructor (init: TrustStoreInit = {}) {
    super()
    this.own = init.credentials
    if (init.crl != null && init.credentials != null) this.current = parseCrl(init.crl, init.credentials.ca)
  }

  credentials (): { certificate: string, ca: string } | undefined {
    return this.own
  }

  /** Called once enrollment has given us a certificate. */
  setCredentials (credentials: { certificate: string, ca: string }, crl?: Uint8Array): void {
    this.own = credentials
    if (crl != null) this.offerCrl(crl)
  }

  crl (): Uint8Array | undefined {
    return this.current?.der
  }

  currentCrl (): Crl | undefined {
    return this.current
  }

  /** Adopts the CRL if it is signed by our CA and newer than ours; returns whether it was. */
  offerCrl (der: Uint8Array): boolean {
    if (this.own == null) return false
    // Every handshake carries the peer's CRL, usually the one we hold: skip parsing and
    // verifying it again.
    if (this.current != null && Buffer.compare(this.current.der, der) === 0) return false
    let candidate: Crl
    try {
      candidate = parseCrl(der, this.own.ca)
    } catch (err) {
      // A forged or broken CRL is ignored, never adopted; the peer learns nothing.
      if (err instanceof InvalidCrlError) return false
      throw err
    }
    if (!isNewerCrl(candidate, this.current)) return false
    this.current = candidate
    this.safeDispatchEvent('crl', { detail: candidate })
    return true
  }

  verifyPeer (certificate: string, peerSpki: Uint8Array): DeviceIdentity {
    if (this.own == null) throw new Error('not enrolled')
    return verifyDeviceCertificate({ certPem: certificate, caCertPem: this.own.ca, crl: this.current, peerPublicKeySpki: peerSpki })
  }

  isRevoked (serial: string): boolean {
    return this.current?.revokedSerials.has(serial) ?? false
  }
}
