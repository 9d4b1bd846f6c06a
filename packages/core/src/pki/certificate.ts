import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto'
import forge from 'node-forge'
import {
  AerieError, InvalidCertificateError, InvalidCrlError, InvalidInputError, RevokedDeviceError, UntrustedPeerError
} from '../errors.ts'
import { attributeText, raw, SHA256_WITH_RSA_DER, UTF8_STRING } from './asn1.ts'
import { bytesEqual, toBinaryString } from './bytes.ts'
import { caSigningKey, type CaKey } from './ca-key.ts'
import type { Crl } from './crl.ts'
import { children, expectTag, parseDer, readBitString, TAG } from './der.ts'
import { deviceIdFromSpki, isUsableDeviceKey, peerIdFromSpki } from './device-key.ts'
import { signCertificate } from './forge-sign.ts'
import { isValidEmail, isValidName, NAME_RULE } from './names.ts'
import { loadOrgRoot, MAX_PEM_LENGTH } from './org-root.ts'
import { fromPem, toPem } from './pem.ts'
import { newCertificateSerial, normaliseSerial } from './serial.ts'

/** Who a device certificate says its holder is. */
export interface DeviceIdentity {
  deviceId: string
  /** libp2p peer id ("Qm…") of the certificate's key. */
  peerId: string
  /** The user's email address. */
  user: string
  deviceName: string
  /** Lowercase hex, no leading zeros (the same spelling as in CRLs). */
  serial: string
  notBefore: Date
  notAfter: Date
  spkiDer: Uint8Array
  /** 'server' for the organisation's team server (the CA vouches for it): agents give it their folders. */
  role?: 'server'
}

export interface IssuedCertificate {
  certPem: string
  serial: string
  deviceId: string
  peerId: string
}

export interface CsrContents {
  spkiDer: Uint8Array
  deviceName: string
}

const DEFAULT_VALID_DAYS = 825
const MAX_VALID_DAYS = 3650
const CLOCK_SKEW_MS = 5 * 60_000
const DAY_MS = 86_400_000
const DEVICE_URN = /^urn:aerie:device:([a-z2-7]{16})$/
const LIBP2P_URN = /^urn:libp2p:([1-9A-HJ-NP-Za-km-z]{1,128})$/
const SERVER_URN = 'urn:aerie:role:server'

/** The CA signs a device's CSR, binding the device key (its libp2p identity) to a user and a name. */
export function issueDeviceCertificate (options: {
  caCertPem: string
  caKey: CaKey
  csrPem: string
  /** The user's email address. */
  user: string
  /** Overrides the name in the CSR. */
  deviceName?: string
  validDays?: number
  /** Certifies the team server's own device. */
  role?: 'server'
  now?: Date
}): IssuedCertificate {
  const { caCertPem, caKey, csrPem, user, validDays = DEFAULT_VALID_DAYS, now = new Date() } = options
  const root = loadOrgRoot(caCertPem)
  const signingKey = caSigningKey(caKey, root)
  const csr = readCsr(csrPem)
  if (!isValidEmail(user)) throw new InvalidInputError(`"${String(user)}" does not look like an email address; give the user's email, e.g. ada@example.org`)
  const deviceName = options.deviceName ?? csr.deviceName
  if (!isValidName(deviceName)) {
    throw options.deviceName === undefined
      ? new InvalidCertificateError(`the device name in the certificate request ${NAME_RULE}; give a device name explicitly`)
      : new InvalidInputError(`the device name ${NAME_RULE}`)
  }
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > MAX_VALID_DAYS) {
    throw new InvalidInputError(`the validity must be a whole number of days from 1 to ${MAX_VALID_DAYS}`)
  }
  const deviceId = deviceIdFromSpki(csr.spkiDer)
  const peerId = peerIdFromSpki(csr.spkiDer)
  const serial = newCertificateSerial()

  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromAsn1(raw(csr.spkiDer))
  cert.serialNumber = serial
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS)
  // Never outlive the CA: peers would refuse the chain anyway.
  cert.validity.notAfter = new Date(Math.min(now.getTime() + validDays * DAY_MS, root.notAfter.getTime()))
  cert.setSubject([
    { shortName: 'CN', value: deviceName, valueTagClass: UTF8_STRING },
    ...(root.orgName === undefined ? [] : [{ shortName: 'O', value: root.orgName, valueTagClass: UTF8_STRING }])
  ])
  cert.setIssuer(root.subjectFields)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 1, value: user },
        { type: 6, value: `urn:aerie:device:${deviceId}` },
        { type: 6, value: `urn:libp2p:${peerId}` },
        ...(options.role === 'server' ? [{ type: 6, value: SERVER_URN }] : [])
      ]
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: toBinaryString(root.keyIdentifier) }
  ])
  const certPem = toPem('CERTIFICATE', signCertificate(cert, signingKey))
  // Never hand out a certificate that peers would refuse.
  verifyDeviceCertificate({ certPem, caCertPem, now })
  return { certPem, serial: normaliseSerial(serial), deviceId, peerId }
}

/** Parses a device certificate without judging it. Anything malformed is an InvalidCertificateError. */
export function readDeviceCertificate (certPem: string): DeviceIdentity {
  return parseDeviceCertificate(certPem).identity
}

/**
 * Decides whether a peer's certificate is one of ours and still good: signed by the org root, in its
 * validity window, naming the key it carries (and the connection's key), and not revoked.
 * Throws InvalidCertificateError (malformed), UntrustedPeerError, RevokedDeviceError, or
 * InvalidCrlError when `crl` was verified against a different CA.
 */
export function verifyDeviceCertificate (options: {
  certPem: string
  caCertPem: string
  crl?: Crl
  now?: Date
  /** The public key the connection proved (Noise), as SPKI DER. */
  peerPublicKeySpki?: Uint8Array
}): DeviceIdentity {
  const { certPem, caCertPem, crl, now = new Date(), peerPublicKeySpki } = options
  const { identity, der } = parseDeviceCertificate(certPem)
  const root = loadOrgRoot(caCertPem)

  let x509: X509Certificate
  try {
    x509 = new X509Certificate(der)
  } catch (err) {
    throw new InvalidCertificateError('the device certificate is damaged; enroll the device again', { cause: err })
  }
  if (!x509.checkIssued(root.x509) || !x509.verify(root.x509.publicKey)) {
    throw new UntrustedPeerError("certificate was not issued by this organisation's CA; enroll the device with an enrollment code from this organisation")
  }
  if (x509.ca) throw new UntrustedPeerError('a CA certificate cannot be used as a device certificate; enroll the device to get its own')

  const time = now.getTime()
  if (time > root.notAfter.getTime()) {
    throw new UntrustedPeerError(`the organisation's root CA certificate expired on ${root.notAfter.toISOString()}; the organisation needs a new CA`)
  }
  if (time < identity.notBefore.getTime()) {
    throw new UntrustedPeerError(`the device certificate is not yet valid (valid from ${identity.notBefore.toISOString()}); check the clock on both devices`)
  }
  if (time > identity.notAfter.getTime()) {
    throw new UntrustedPeerError(`the device certificate expired on ${identity.notAfter.toISOString()}; enroll the device again to renew it`)
  }

  if (deviceIdFromSpki(identity.spkiDer) !== identity.deviceId || peerIdFromSpki(identity.spkiDer) !== identity.peerId) {
    throw new UntrustedPeerError('the device certificate names a different device than its own key; enroll the device again')
  }
  if (peerPublicKeySpki !== undefined && !sameKey(peerPublicKeySpki, identity.spkiDer)) {
    throw new UntrustedPeerError("certificate does not match the connection's peer key; the peer presented someone else's certificate")
  }

  if (crl !== undefined) {
    if (crl.caFingerprint !== root.fingerprint) throw new InvalidCrlError("the CRL was not issued by this organisation's CA; fetch the CRL again")
    if (crl.revokedSerials.has(identity.serial)) {
      throw new RevokedDeviceError(`device "${identity.deviceName}" (${identity.deviceId}) of ${identity.user} has been revoked; an administrator must enroll it again if this is a mistake`)
    }
  }
  return identity
}

/** The public key and name in a CSR, after checking the CSR is signed by that key. */
export function readCsr (csrPem: string): CsrContents {
  try {
    if (typeof csrPem !== 'string' || csrPem.length > MAX_PEM_LENGTH) throw new Error('not a PEM string')
    const der = fromPem(csrPem, 'CERTIFICATE REQUEST')
    if (der === undefined) throw new Error('no CERTIFICATE REQUEST block')
    const [info, algorithm, signature, ...rest] = children(parseDer(der), TAG.SEQUENCE)
    if (rest.length > 0) throw new Error('extra fields')
    const infoFields = children(expectTag(info, TAG.SEQUENCE))
    if (!bytesEqual(expectTag(algorithm, TAG.SEQUENCE).bytes, SHA256_WITH_RSA_DER)) throw new Error('unsupported signature algorithm')
    const publicKey = createPublicKey({ key: Buffer.from(expectTag(infoFields[2], TAG.SEQUENCE).bytes), format: 'der', type: 'spki' })
    if (!isUsableDeviceKey(publicKey)) {
      throw new InvalidCertificateError('the certificate request is not for an RSA key of 3072 to 8192 bits; create a new request with Aerie')
    }
    // Proof of possession, checked by OpenSSL over the exact bytes received.
    if (!verify('sha256', info!.bytes, publicKey, readBitString(signature))) {
      throw new InvalidCertificateError('the certificate request is not signed by its own key; create a new request on the device')
    }
    const csr = forge.pki.certificationRequestFromAsn1(forge.asn1.fromDer(toBinaryString(der), true))
    const deviceName = attributeText(csr.subject.getField('CN'))
    if (deviceName === undefined) throw new Error('no device name')
    return { spkiDer: canonicalSpki(publicKey), deviceName }
  } catch (err) {
    if (err instanceof AerieError) throw err
    throw new InvalidCertificateError('this is not a valid certificate request; start the enrollment again on the device', { cause: err })
  }
}

function parseDeviceCertificate (certPem: string): { identity: DeviceIdentity, der: Uint8Array } {
  try {
    if (typeof certPem !== 'string' || certPem.length > MAX_PEM_LENGTH) throw new Error('not a PEM string')
    const der = fromPem(certPem, 'CERTIFICATE')
    if (der === undefined) throw new Error('no CERTIFICATE block')
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(toBinaryString(der), true))

    const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ type?: unknown, value?: unknown }> } | undefined
    const names = san?.altNames ?? []
    const emails = names.filter(name => name.type === 1).map(name => name.value)
    const uris = names.filter(name => name.type === 6).map(name => String(name.value))
    const deviceIds = uris.flatMap(uri => DEVICE_URN.exec(uri)?.[1] ?? [])
    const peerIds = uris.flatMap(uri => LIBP2P_URN.exec(uri)?.[1] ?? [])
    const user = emails[0]
    const deviceName = attributeText(cert.subject.getField('CN'))
    if (emails.length !== 1 || !isValidEmail(user) || deviceIds.length !== 1 || peerIds.length !== 1 || deviceName === undefined) {
      throw new Error('not an Aerie device certificate')
    }
    const tbs = children(expectTag(children(parseDer(der), TAG.SEQUENCE)[0], TAG.SEQUENCE))
    const first = tbs[0]?.tag === TAG.CONTEXT_0 ? 1 : 0 // [0] version is optional
    const spki = expectTag(tbs[first + 5], TAG.SEQUENCE)
    const publicKey = createPublicKey({ key: Buffer.from(spki.bytes), format: 'der', type: 'spki' })
    if (!isUsableDeviceKey(publicKey)) throw new Error('not a device key')
    const { notBefore, notAfter } = cert.validity
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new Error('invalid validity dates')

    const identity: DeviceIdentity = {
      deviceId: deviceIds[0]!,
      peerId: peerIds[0]!,
      user,
      deviceName,
      serial: normaliseSerial(cert.serialNumber),
      notBefore,
      notAfter,
      spkiDer: canonicalSpki(publicKey),
      ...(uris.includes(SERVER_URN) ? { role: 'server' as const } : {})
    }
    return { identity, der }
  } catch (err) {
    if (err instanceof AerieError) throw err
    throw new InvalidCertificateError('this is not a valid Aerie device certificate; enroll the device again to get a new one', { cause: err })
  }
}

function canonicalSpki (key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }))
}

// Compare keys, not encodings: the connection's key may come from another encoder.
function sameKey (spkiDer: Uint8Array, expected: Uint8Array): boolean {
  try {
    return bytesEqual(canonicalSpki(createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' })), expected)
  } catch {
    return false
  }
}
