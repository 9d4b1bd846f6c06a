import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import forge from 'node-forge'
import { InvalidInputError, InvalidKeyError } from '../errors.ts'
import { UTF8_STRING } from './asn1.ts'
import { base32Encode } from './base32.ts'
import { sha256 } from './bytes.ts'
import { signCsr } from './forge-sign.ts'
import { isValidName, NAME_RULE } from './names.ts'
import { toPem } from './pem.ts'

// The device key is also its libp2p identity, so the certificate binds the peer id directly.
const DEVICE_KEY_BITS = 3072
const MAX_KEY_BITS = 8192 // libp2p refuses larger RSA keys

/** A new device key as unencrypted PKCS#8 PEM; the caller writes it with mode 0600. */
export function generateDeviceKey (): { privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: DEVICE_KEY_BITS })
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

/** The device key as the libp2p private key that identifies this device on the network. */
export function libp2pKeyFromPem (privateKeyPem: string): PrivateKey {
  const key = readDeviceKey(privateKeyPem)
  return privateKeyFromRaw(new Uint8Array(key.export({ type: 'pkcs1', format: 'der' })))
}

/** Derived from the key, never chosen: 16 base32 characters of sha256(SPKI). */
export function deviceIdFromSpki (spkiDer: Uint8Array): string {
  return base32Encode(sha256(spkiDer)).slice(0, 16)
}

/** The libp2p peer id ("Qm…") of an RSA public key given as SPKI DER. */
export function peerIdFromSpki (spkiDer: Uint8Array): string {
  return peerIdFromPublicKey(publicKeyFromRaw(spkiDer)).toString()
}

export function isUsableDeviceKey (key: KeyObject): boolean {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  return key.asymmetricKeyType === 'rsa' && bits >= DEVICE_KEY_BITS && bits <= MAX_KEY_BITS
}

/** A certificate signing request naming the device, signed with its key to prove possession. */
export function createCsr (options: { privateKeyPem: string, deviceName: string }): string {
  const { privateKeyPem, deviceName } = options
  if (!isValidName(deviceName)) throw new InvalidInputError(`the device name ${NAME_RULE}`)
  const key = readDeviceKey(privateKeyPem)
  const csr = forge.pki.createCertificationRequest()
  csr.publicKey = forge.pki.publicKeyFromPem(createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string)
  csr.setSubject([{ shortName: 'CN', value: deviceName, valueTagClass: UTF8_STRING }])
  return toPem('CERTIFICATE REQUEST', signCsr(csr, key))
}

function readDeviceKey (privateKeyPem: string): KeyObject {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' })
  } catch (err) {
    throw new InvalidKeyError('the device key file is damaged or not a private key; restore it from a backup, or enroll this device again with a new key', { cause: err })
  }
  if (!isUsableDeviceKey(key)) {
    throw new InvalidKeyError(`the device key is not an RSA key of ${DEVICE_KEY_BITS} to ${MAX_KEY_BITS} bits; enroll this device again with a key made by Aerie`)
  }
  return key
}
