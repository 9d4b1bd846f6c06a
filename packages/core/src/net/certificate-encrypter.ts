import { noise } from '@chainsafe/libp2p-noise'
import { lpStream } from '@libp2p/utils'
import { AerieError, EnrollmentError, NotConfiguredError, PeerRefusedError, ProtocolError, UntrustedPeerError } from '../errors.ts'
import { caFingerprint, verifyDeviceCertificate } from '../pki/index.ts'
import { HandshakeFramer } from './handshake-framer.ts'
import { decodeHandshakeMessage, encodeHandshakeMessage, MAX_HANDSHAKE_MESSAGE } from './handshake-messages.ts'
import { deriveRecordKeys, deriveTlsPsk, newKeyShare } from './record-keys.ts'
import { RecordStream } from './record-stream.ts'
import { socketOf, upgradeToTls } from './tls-stream.ts'
import type { HandshakeMessage } from './handshake-messages.ts'
import type { SessionSecrets } from './record-keys.ts'
import type { EnrollmentIssuer, EnrollmentTicket, PeerTrust } from './peer-trust.ts'
import type { DeviceIdentity } from '../pki/index.ts'
import type { NoiseComponents } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, MessageStream, PeerId, SecureConnectionOptions, SecuredConnection, StreamMuxerFactory } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/**
 * Aerie's connection encrypter: Noise XX, then the certificate exchange inside the
 * Noise channel, then TLS 1.3 keyed from secrets exchanged inside Noise (tls-stream.ts)
 * when both sides run on a TCP socket, else AES-GCM records of our own. It returns only
 * when the peer holds a valid, unrevoked certificate from our organisation for the key
 * Noise authenticated, so the stream muxer, and with it every protocol, exists only for
 * authenticated peers: there is no window in which an unauthenticated peer can open a stream.
 *
 * Enrollment happens in the same place: a device without a certificate may ask a CA
 * holder for one (rate-limited, code checked), and the connection then completes as an
 * authenticated one. See docs/protocol.md, "Handshake".
 */
export const AERIE_ENCRYPTER_PROTOCOL = '/aerie/secure/1.0.0'
const MUXER = '/yamux/1.0.0'

export interface CertificateEncrypterInit {
  trust: PeerTrust
  /** Present on the CA holder while its key is unlocked. */
  issuer?: EnrollmentIssuer
  /** Present on a device that is enrolling with a code. */
  enrollment?: EnrollmentTicket
  /** Every authenticated connection's peer, before the connection is handed to libp2p. */
  onAuthenticated?(identity: DeviceIdentity, peer: PeerId): void
  /** Every refused handshake, with the reason (the agent logs it). */
  onRefused?(reason: Error, remoteAddress: string): void
}

export function certificateEncrypter (init: CertificateEncrypterInit): (components: NoiseComponents) => ConnectionEncrypter {
  return (components) => new CertificateEncrypter(components, init)
}

interface Side {
  initiator: boolean
  channel: LengthPrefixedStream
  peer: PeerId
  peerSpki: Uint8Array
  remoteAddress: string
  options?: SecureConnectionOptions
  /** Whether the peer has been told why it is refused. */
  told: boolean
}

class CertificateEncrypter implements ConnectionEncrypter {
  readonly protocol = AERIE_ENCRYPTER_PROTOCOL
  private readonly components: NoiseComponents
  private readonly init: CertificateEncrypterInit
  private readonly noise: ConnectionEncrypter

  constructor (components: NoiseComponents, init: CertificateEncrypterInit) {
    this.components = components
    this.init = init
    this.noise = noise()(components)
  }

  async secureOutbound (raw: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.secure(raw, true, options)
  }

  async secureInbound (raw: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return await this.secure(raw, false, options)
  }

  private async secure (raw: MessageStream, initiator: boolean, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    // TLS needs the TCP socket itself; the framer pauses it the moment the peer switches.
    const socket = socketOf(raw)
    const framer = new HandshakeFramer(raw, { pauseOnSwitch: socket != null })
    const remoteAddress = remoteAddressOf(raw)
    let side: Side | undefined
    try {
      const noiseOptions = { ...options, skipStreamMuxerNegotiation: true }
      const secured = initiator
        ? await this.noise.secureOutbound(framer, noiseOptions)
        : await this.noise.secureInbound(framer, noiseOptions)
      const peerKey = secured.remotePeer.publicKey
      if (peerKey?.type !== 'RSA') throw new UntrustedPeerError('peer key is not an Aerie device key (RSA)')
      side = {
        initiator,
        channel: lpStream(secured.connection, { maxDataLength: MAX_HANDSHAKE_MESSAGE }),
        peer: secured.remotePeer,
        peerSpki: peerKey.raw,
        remoteAddress,
        options,
        told: false
      }
      const ourShare = newKeyShare()
      const { identity, theirShare } = initiator
        ? await this.authenticateAsInitiator(side, ourShare)
        : await this.authenticateAsResponder(side, ourShare)

      const secrets: SessionSecrets = {
        initiatorShare: initiator ? ourShare : theirShare,
        responderShare: initiator ? theirShare : ourShare,
        initiatorPeer: (initiator ? this.components.peerId : side.peer).toString(),
        responderPeer: (initiator ? side.peer : this.components.peerId).toString()
      }
      framer.sendSwitch(socket != null)
      const peer = await framer.peerSwitched(options)
      framer.detach()
      let connection: MessageStream
      if (socket != null && peer.tls) {
        connection = await upgradeToTls({ raw, socket, rest: peer.rest, psk: deriveTlsPsk(secrets), initiator, options })
      } else {
        connection = new RecordStream(raw, deriveRecordKeys({ ...secrets, weAreInitiator: initiator }), peer.rest)
        if (socket != null) raw.resume() // paused by the framer at the peer's SWITCH
      }
      this.init.onAuthenticated?.(identity, side.peer)
      return {
        connection,
        remotePeer: side.peer,
        streamMuxer: this.muxer()
      }
    } catch (err) {
      const reason = err instanceof Error ? err : new Error(String(err))
      this.init.onRefused?.(reason, remoteAddress)
      // Inside the Noise channel the peer deserves to know why; then close gracefully so
      // the reason is delivered rather than lost to a reset.
      if (side != null && !side.told && reason instanceof AerieError) {
        await tell(side, reason)
      }
      framer.detach()
      await raw.close({ signal: AbortSignal.timeout(2_000) }).catch(() => { raw.abort(reason) })
      throw reason
    }
  }

  private async authenticateAsInitiator (side: Side, share: Uint8Array): Promise<{ identity: DeviceIdentity, theirShare: Uint8Array }> {
    const own = this.init.trust.credentials()
    if (own != null) {
      await send(side, { type: 'hello', certificate: own.certificate, crl: this.init.trust.crl(), share })
      const reply = await receive(side, 'hello')
      if (reply.crl != null) this.init.trust.offerCrl(reply.crl)
      const identity = this.init.trust.verifyPeer(reply.certificate, side.peerSpki)
      return { identity, theirShare: reply.share }
    }

    const ticket = this.init.enrollment
    if (ticket == null) throw new NotConfiguredError('this device is not enrolled yet: run `aerie enroll CODE` with a code from your administrator')
    await send(side, { type: 'enroll', share })
    const hello = await receive(side, 'hello')
    // The code carries the CA's fingerprint: only the CA we were told about gets our secret.
    if (hello.ca == null || !caFingerprint(hello.ca).startsWith(ticket.caFingerprintPrefix)) {
      throw new EnrollmentError('the device at this address does not hold the CA named in the enrollment code; check the address (--ca) or ask for a new code')
    }
    const caHolder = verifyDeviceCertificate({ certPem: hello.certificate, caCertPem: hello.ca, peerPublicKeySpki: side.peerSpki })
    await send(side, { type: 'csr', secret: ticket.secret, csr: ticket.csr })
    const issued = await receive(side, 'certificate')
    const ownSpki = this.components.privateKey.publicKey.raw
    verifyDeviceCertificate({ certPem: issued.certificate, caCertPem: hello.ca, peerPublicKeySpki: ownSpki })
    ticket.onEnrolled({ certificate: issued.certificate, ca: hello.ca, crl: hello.crl, caHolder })
    return { identity: caHolder, theirShare: hello.share }
  }

  private async authenticateAsResponder (side: Side, share: Uint8Array): Promise<{ identity: DeviceIdentity, theirShare: Uint8Array }> {
    const own = this.init.trust.credentials()
    if (own == null) throw new NotConfiguredError('this device is not enrolled yet and cannot accept connections')
    const first = await receive(side, 'hello', 'enroll')

    if (first.type === 'hello') {
      if (first.crl != null) this.init.trust.offerCrl(first.crl)
      const identity = await refuseOnError(side, () => this.init.trust.verifyPeer(first.certificate, side.peerSpki))
      await send(side, { type: 'hello', certificate: own.certificate, crl: this.init.trust.crl(), share })
      return { identity, theirShare: first.share }
    }

    const issuer = this.init.issuer
    await refuseOnError(side, () => {
      if (issuer == null) throw new EnrollmentError('this device does not enroll devices; use the address of the CA holder (the team server, or the admin device that ran `aerie ca init`)')
      issuer.admit(side.remoteAddress)
    })
    await send(side, { type: 'hello', certificate: own.certificate, ca: own.ca, crl: this.init.trust.crl(), share })
    const request = await receive(side, 'csr')
    const certificate = await refuseOnError(side, async () => await issuer!.issue({
      secret: request.secret, csr: request.csr, peerSpki: side.peerSpki, remoteAddress: side.remoteAddress
    }))
    await send(side, { type: 'certificate', certificate })
    return { identity: this.init.trust.verifyPeer(certificate, side.peerSpki), theirShare: first.share }
  }

  private muxer (): StreamMuxerFactory | undefined {
    return this.components.upgrader.getStreamMuxers().get(MUXER)
  }
}

async function send (side: Side, message: HandshakeMessage): Promise<void> {
  await side.channel.write(encodeHandshakeMessage(message), side.options)
}

/** Reads the next message, which must be one of `types`; a reject becomes the peer's error. */
async function receive<T extends HandshakeMessage['type']> (side: Side, ...types: T[]): Promise<Extract<HandshakeMessage, { type: T }>> {
  const message = decodeHandshakeMessage((await side.channel.read(side.options)).subarray())
  if (message.type === 'reject') {
    side.told = true // no point answering a refusal with one
    throw new PeerRefusedError(message.code, message.message)
  }
  if (!(types as string[]).includes(message.type)) throw new ProtocolError(`peer sent ${message.type} where ${types.join(' or ')} was expected`)
  return message as Extract<HandshakeMessage, { type: T }>
}

/** Runs a check; if it fails, tells the peer why (it deserves a clear error) and rethrows. */
async function refuseOnError<R> (side: Side, check: () => R | Promise<R>): Promise<R> {
  try {
    return await check()
  } catch (err) {
    await tell(side, err)
    throw err
  }
}

async function tell (side: Side, err: unknown): Promise<void> {
  side.told = true
  const code = err instanceof AerieError ? err.code : 'ERR_REFUSED'
  const message = err instanceof AerieError ? err.message : 'the peer refused the handshake'
  await send(side, { type: 'reject', code, message }).catch(() => {})
}

function remoteAddressOf (raw: MessageStream): string {
  const addr = (raw as Partial<{ remoteAddr: { toString(): string } }>).remoteAddr
  return addr?.toString() ?? 'unknown'
}
