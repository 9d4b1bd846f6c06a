import { X509Certificate } from 'node:crypto'
import forge from 'node-forge'
import { AerieError, InvalidCertificateError } from '../errors.ts'
import { attributeText } from './asn1.ts'
import { sha256Hex, toBinaryString } from './bytes.ts'
import { children, expectTag, parseDer, TAG } from './der.ts'
import { fromPem } from './pem.ts'

/** The organisation's root CA certificate, parsed once into what issuing and verifying need. */
export interface OrgRoot {
  readonly x509: X509Certificate
  readonly der: Uint8Array
  /** The exact subject bytes: a device certificate's or CRL's issuer must equal them. */
  readonly subjectDer: Uint8Array
  readonly spkiDer: Uint8Array
  readonly keyIdentifier: Uint8Array
  /** Subject attributes with decoded text, ready to be written as an issuer. */
  readonly subjectFields: forge.pki.CertificateField[]
  readonly orgName: string | undefined
  readonly notBefore: Date
  readonly notAfter: Date
  /** Lowercase hex sha256 of the certificate DER. */
  readonly fingerprint: string
}

export const MAX_PEM_LENGTH = 64 * 1024

// Every connection verifies against the same root: keep the last one parsed.
let cached: { pem: string, root: OrgRoot } | undefined

export function loadOrgRoot (caCertPem: string): OrgRoot {
  if (cached?.pem === caCertPem) return cached.root
  const root = parseOrgRoot(caCertPem)
  cached = { pem: caCertPem, root }
  return root
}

function parseOrgRoot (caCertPem: string): OrgRoot {
  try {
    if (typeof caCertPem !== 'string' || caCertPem.length > MAX_PEM_LENGTH) throw new Error('not a PEM string')
    const der = fromPem(caCertPem, 'CERTIFICATE')
    if (der === undefined) throw new Error('no CERTIFICATE block')
    const x509 = new X509Certificate(der)
    if (!x509.ca) throw new Error('not a CA certificate')
    if (!x509.verify(x509.publicKey)) throw new Error('not self-signed')
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(toBinaryString(der), true))

    const tbs = children(parseDer(der), TAG.SEQUENCE)[0]
    const fields = children(expectTag(tbs, TAG.SEQUENCE))
    const first = fields[0]?.tag === TAG.CONTEXT_0 ? 1 : 0 // [0] version is optional
    const subject = expectTag(fields[first + 4], TAG.SEQUENCE)
    const spki = expectTag(fields[first + 5], TAG.SEQUENCE)

    const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined
    const keyIdentifier = ski?.subjectKeyIdentifier !== undefined
      ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
      : cert.generateSubjectKeyIdentifier().getBytes()
    const subjectFields = cert.subject.attributes.map(field => ({
      type: field.type,
      value: attributeText(field),
      valueTagClass: field.valueTagClass
    }))
    return {
      x509,
      der,
      subjectDer: subject.bytes.slice(),
      spkiDer: spki.bytes.slice(),
      keyIdentifier: new Uint8Array(Buffer.from(keyIdentifier, 'latin1')),
      subjectFields,
      orgName: attributeText(cert.subject.getField('O')),
      notBefore: cert.validity.notBefore,
      notAfter: cert.validity.notAfter,
      fingerprint: sha256Hex(der)
    }
  } catch (err) {
    if (err instanceof AerieError) throw err
    throw new InvalidCertificateError(
      'the organisation CA certificate is damaged or is not a CA certificate; restore it from the CA holder (the team server or the admin device)',
      { cause: err })
  }
}
