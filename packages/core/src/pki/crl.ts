import { sign, verify } from 'node:crypto'
import { InvalidCrlError, InvalidInputError } from '../errors.ts'
import {
  contextExplicit, contextPrimitive, octetString, oid, raw, sequence, SHA256_WITH_RSA_DER, sha256WithRsaAlgorithm, time, toDer,
  unsignedInteger, bitString
} from './asn1.ts'
import { bytesEqual } from './bytes.ts'
import { caSigningKey, type CaKey } from './ca-key.ts'
import { children, expectTag, parseDer, readBitString, readTime, readUnsignedInteger, TAG, type DerNode } from './der.ts'
import { loadOrgRoot } from './org-root.ts'
import { fromPem, toPem } from './pem.ts'
import { normaliseSerial } from './serial.ts'

/** A verified certificate revocation list from the organisation's CA. */
export interface Crl {
  /** Monotonic: a higher number replaces a lower one. */
  number: bigint
  thisUpdate: Date
  nextUpdate?: Date
  /** Serials in the same spelling as DeviceIdentity.serial. */
  revokedSerials: ReadonlySet<string>
  der: Uint8Array
  /** The CA it verified against, so it is never applied to another organisation's certificates. */
  caFingerprint: string
}

export interface RevokedCertificate {
  serial: string
  revokedAt: Date
}

const CRL_NUMBER = '2.5.29.20'
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35'
const CRL_NUMBER_DER = toDer(oid(CRL_NUMBER))
const AUTHORITY_KEY_IDENTIFIER_DER = toDer(oid(AUTHORITY_KEY_IDENTIFIER))
const MAX_CRL_NUMBER = 2n ** 159n // RFC 5280: at most 20 octets
const MAX_CRL_BYTES = 16 * 1024 * 1024
const DAY_MS = 86_400_000

/** Builds and signs an X.509 v2 CRL (DER). forge has no CRL API, so the ASN.1 is assembled here. */
export function createCrl (options: {
  caCertPem: string
  caKey: CaKey
  number: bigint | number
  revoked: RevokedCertificate[]
  now?: Date
  nextUpdateDays?: number
}): Uint8Array {
  const { caCertPem, caKey, revoked, now = new Date(), nextUpdateDays = 30 } = options
  const root = loadOrgRoot(caCertPem)
  const signingKey = caSigningKey(caKey, root)
  if (typeof options.number === 'number' && !Number.isSafeInteger(options.number)) throw new InvalidInputError('the CRL number must be a whole number')
  const number = BigInt(options.number)
  if (number < 0n || number >= MAX_CRL_NUMBER) throw new InvalidInputError('the CRL number must be between 0 and 2^159')
  if (!Number.isInteger(nextUpdateDays) || nextUpdateDays < 1 || nextUpdateDays > 3650) {
    throw new InvalidInputError('the CRL lifetime must be a whole number of days from 1 to 3650')
  }
  const entries = new Map<string, Date>()
  for (const { serial, revokedAt } of revoked) {
    const normal = typeof serial === 'string' ? normaliseSerial(serial) : ''
    if (!/^[0-9a-f]{1,40}$/.test(normal)) throw new InvalidInputError(`"${String(serial)}" is not a certificate serial (hex digits)`)
    if (!(revokedAt instanceof Date) || Number.isNaN(revokedAt.getTime())) throw new InvalidInputError(`the revocation date of ${normal} is not a valid date`)
    if (!entries.has(normal)) entries.set(normal, revokedAt)
  }

  const tbs = sequence([
    unsignedInteger(1n), // v2
    sha256WithRsaAlgorithm(),
    raw(root.subjectDer),
    time(now),
    time(new Date(now.getTime() + nextUpdateDays * DAY_MS)),
    // RFC 5280: with nothing revoked the list is absent, not empty.
    ...(entries.size === 0
      ? []
      : [sequence([...entries].map(([serial, at]) => sequence([unsignedInteger(BigInt('0x' + serial)), time(at)])))]),
    contextExplicit(0, sequence([
      sequence([oid(CRL_NUMBER), octetString(toDer(unsignedInteger(number)))]),
      sequence([oid(AUTHORITY_KEY_IDENTIFIER), octetString(toDer(sequence([contextPrimitive(0, root.keyIdentifier)])))])
    ]))
  ])
  const tbsDer = toDer(tbs)
  return toDer(sequence([tbs, sha256WithRsaAlgorithm(), bitString(sign('sha256', tbsDer, signingKey))]))
}

/** Verifies a CRL against the org root and reads it. Malformed or forged input is an InvalidCrlError. */
export function parseCrl (der: Uint8Array, caCertPem: string): Crl {
  const root = loadOrgRoot(caCertPem)
  try {
    if (!(der instanceof Uint8Array) || der.length > MAX_CRL_BYTES) throw new Error('not CRL bytes')
    const [tbs, algorithm, signature, ...rest] = children(parseDer(der), TAG.SEQUENCE)
    if (rest.length > 0) throw new Error('extra fields')
    const fields = children(expectTag(tbs, TAG.SEQUENCE))
    if (!bytesEqual(expectTag(algorithm, TAG.SEQUENCE).bytes, SHA256_WITH_RSA_DER)) throw new Error('unsupported signature algorithm')
    let i = 0
    if (readUnsignedInteger(expectTag(fields[i++], TAG.INTEGER)) !== 1n) throw new Error('not a v2 CRL')
    if (!bytesEqual(expectTag(fields[i++], TAG.SEQUENCE).bytes, SHA256_WITH_RSA_DER)) throw new Error('signature algorithms differ')
    if (!bytesEqual(expectTag(fields[i++], TAG.SEQUENCE).bytes, root.subjectDer)) {
      throw new InvalidCrlError("this CRL was not issued by this organisation's CA; fetch the CRL from your organisation again")
    }
    // Verify before reading anything else: the rest is only meaningful if the CA said it.
    if (!verify('sha256', tbs!.bytes, root.x509.publicKey, readBitString(signature))) {
      throw new InvalidCrlError("the CRL's signature does not verify against this organisation's CA; it was forged or damaged in transit, fetch it again")
    }
    const thisUpdate = readTime(fields[i++]!)
    const nextUpdate = isTime(fields[i]) ? readTime(fields[i++]!) : undefined
    const revokedSerials = new Set<string>()
    if (fields[i]?.tag === TAG.SEQUENCE) {
      for (const entry of children(fields[i++]!)) revokedSerials.add(readEntry(entry))
    }
    let number: bigint | undefined
    if (fields[i]?.tag === TAG.CONTEXT_0) {
      const [extensions, ...more] = children(fields[i++]!)
      if (more.length > 0) throw new Error('extra fields')
      number = readCrlNumber(expectTag(extensions, TAG.SEQUENCE))
    }
    if (i !== fields.length) throw new Error('unexpected fields')
    if (number === undefined) throw new Error('no CRL number')
    return {
      number,
      thisUpdate,
      ...(nextUpdate === undefined ? {} : { nextUpdate }),
      revokedSerials,
      der: new Uint8Array(der), // a copy: the caller's buffer may be reused
      caFingerprint: root.fingerprint
    }
  } catch (err) {
    if (err instanceof InvalidCrlError) throw err
    throw new InvalidCrlError('the CRL is damaged or is not a CRL; fetch it again from the CA holder', { cause: err })
  }
}

/** Whether `candidate` should replace `current`: only a strictly higher number does. */
export function isNewerCrl (candidate: Crl, current: Crl | undefined): boolean {
  return current === undefined || candidate.number > current.number
}

export function crlToPem (der: Uint8Array): string {
  return toPem('X509 CRL', der)
}

export function crlFromPem (pem: string): Uint8Array {
  const der = typeof pem === 'string' ? fromPem(pem, 'X509 CRL') : undefined
  if (der === undefined) throw new InvalidCrlError('this is not a PEM CRL (-----BEGIN X509 CRL-----); fetch it again from the CA holder')
  return der
}

function isTime (node: DerNode | undefined): boolean {
  return node?.tag === TAG.UTC_TIME || node?.tag === TAG.GENERALIZED_TIME
}

function readEntry (entry: DerNode): string {
  const [serial, revokedAt, extensions, ...rest] = children(entry, TAG.SEQUENCE)
  if (rest.length > 0 || (extensions !== undefined && extensions.tag !== TAG.SEQUENCE)) throw new Error('malformed revoked entry')
  const content = expectTag(serial, TAG.INTEGER).content
  if (content.length === 0 || content.length > 21) throw new Error('malformed serial')
  readTime(revokedAt!)
  return normaliseSerial(Buffer.from(content).toString('hex'))
}

function readCrlNumber (extensions: DerNode): bigint {
  let number: bigint | undefined
  const seen = new Set<string>()
  for (const extension of children(extensions)) {
    const [id, ...tail] = children(extension, TAG.SEQUENCE)
    let critical = false
    if (tail[0]?.tag === TAG.BOOLEAN) {
      critical = tail[0].content.length === 1 && tail[0].content[0] === 0xff
      tail.shift()
    }
    if (tail.length !== 1) throw new Error('malformed extension')
    const value = expectTag(tail[0], TAG.OCTET_STRING)
    const key = Buffer.from(expectTag(id, TAG.OID).bytes).toString('hex')
    if (seen.has(key)) throw new Error('duplicate extension')
    seen.add(key)
    if (bytesEqual(id!.bytes, CRL_NUMBER_DER)) {
      number = readUnsignedInteger(parseDer(value.content))
    } else if (critical && !bytesEqual(id!.bytes, AUTHORITY_KEY_IDENTIFIER_DER)) {
      throw new Error('unknown critical extension') // RFC 5280: must not be ignored
    }
  }
  if (number === undefined) throw new Error('no CRL number')
  return number
}
