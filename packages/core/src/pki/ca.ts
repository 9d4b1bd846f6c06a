import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import forge from 'node-forge'
import { CaLockedError, InvalidInputError } from '../errors.ts'
import { UTF8_STRING } from './asn1.ts'
import { sha256Hex } from './bytes.ts'
import { wrapCaKey, type CaKey } from './ca-key.ts'
import { children, parseDer, TAG } from './der.ts'
import { encryptPrivateKey } from './encrypted-key.ts'
import { signCertificate } from './forge-sign.ts'
import { isValidName, NAME_RULE } from './names.ts'
import { loadOrgRoot } from './org-root.ts'
import { fromPem, toPem } from './pem.ts'
import { newCertificateSerial } from './serial.ts'

export type { CaKey } from './ca-key.ts'

export interface OrgCA {
  certPem: string
  /** Encrypted PKCS#8 PEM; useless without the passphrase. */
  encryptedKeyPem: string
  /** Lowercase hex sha256 of the certificate DER. */
  fingerprint: string
}

const CA_KEY_BITS = 3072
const CA_VALID_YEARS = 20
const MIN_PASSPHRASE_LENGTH = 8
const CLOCK_SKEW_MS = 5 * 60_000

/** Creates the organisation's root CA: a self-signed RSA certificate and its passphrase-encrypted key. */
export async function createOrgCA (options: { orgName: string, passphrase: string, now?: Date }): Promise<OrgCA> {
  const { orgName, passphrase, now = new Date() } = options
  if (!isValidName(orgName)) throw new InvalidInputError(`the organisation name ${NAME_RULE}`)
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(`the CA passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters; choose a longer one and keep it somewhere safe`)
  }
  // node:crypto generates RSA keys in OpenSSL in a fraction of forge's time.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: CA_KEY_BITS })

  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string)
  cert.serialNumber = newCertificateSerial()
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS)
  const notAfter = new Date(now)
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALID_YEARS)
  cert.validity.notAfter = notAfter
  const name = [
    { shortName: 'CN', value: 'Aerie Root CA', valueTagClass: UTF8_STRING },
    { shortName: 'O', value: orgName, valueTagClass: UTF8_STRING }
  ]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' }
  ])
  const der = signCertificate(cert, privateKey)
  return {
    certPem: toPem('CERTIFICATE', der),
    encryptedKeyPem: await encryptPrivateKey(privateKey, passphrase),
    fingerprint: sha256Hex(der)
  }
}

/** Decrypts the CA key. A wrong passphrase is a CaLockedError, never a crash. */
export function unlockCAKey (encryptedKeyPem: string, passphrase: string): CaKey {
  const damaged = 'the CA key file is damaged or is not an encrypted CA key; restore it from your backup of the CA holder'
  if (typeof encryptedKeyPem !== 'string' || !looksLikeEncryptedKey(encryptedKeyPem)) throw new CaLockedError(damaged)
  if (typeof passphrase !== 'string') throw new CaLockedError('wrong CA passphrase: type the passphrase chosen when the organisation was created')
  let key: KeyObject
  try {
    key = createPrivateKey({ key: encryptedKeyPem, format: 'pem', passphrase })
  } catch (err) {
    // The structure parsed above, so a failure here is the passphrase (or, rarely, damaged ciphertext).
    throw new CaLockedError('wrong CA passphrase: type the passphrase chosen when the organisation was created', { cause: err })
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CaLockedError(damaged)
  return wrapCaKey(key)
}

/** Lowercase hex sha256 of the CA certificate, as shown to people comparing it out of band. */
export function caFingerprint (certPem: string): string {
  return loadOrgRoot(certPem).fingerprint
}

function looksLikeEncryptedKey (pem: string): boolean {
  const der = fromPem(pem, 'ENCRYPTED PRIVATE KEY')
  if (der === undefined) return false
  try {
    const [algorithm, data, ...rest] = children(parseDer(der), TAG.SEQUENCE)
    return algorithm?.tag === TAG.SEQUENCE && data?.tag === TAG.OCTET_STRING && rest.length === 0
  } catch {
    return false
  }
}
