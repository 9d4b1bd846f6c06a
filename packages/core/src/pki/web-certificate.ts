import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import forge from 'node-forge'
import { InvalidInputError } from '../errors.ts'
import { UTF8_STRING } from './asn1.ts'
import { toBinaryString } from './bytes.ts'
import { caSigningKey, type CaKey } from './ca-key.ts'
import { signCertificate } from './forge-sign.ts'
import { loadOrgRoot } from './org-root.ts'
import { toPem } from './pem.ts'
import { newCertificateSerial } from './serial.ts'

/**
 * An HTTPS server certificate from the organisation's CA, for the team server's web console
 * and share pages: browsers and agents that trust the org root trust it. (Public share pages
 * usually sit behind the organisation's proxy with a public certificate instead.)
 */
export interface WebCertificate {
  certPem: string
  keyPem: string
  notAfter: Date
}

const VALID_DAYS = 397 // what browsers accept for a server certificate
const DAY_MS = 86_400_000
const CLOCK_SKEW_MS = 5 * 60_000
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

export function issueWebCertificate (options: { caCertPem: string, caKey: CaKey, names: readonly string[], now?: Date }): WebCertificate {
  const { caCertPem, caKey, now = new Date() } = options
  const names = [...new Set(options.names.map(n => n.trim()).filter(n => n !== ''))]
  if (names.length === 0) throw new InvalidInputError('a web certificate needs at least one host name or address')
  for (const name of names) {
    if (isIP(name) === 0 && !HOST_NAME.test(name)) throw new InvalidInputError(`"${name}" is neither a host name nor an IP address`)
  }
  const root = loadOrgRoot(caCertPem)
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 })
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string)
  cert.serialNumber = newCertificateSerial()
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS)
  cert.validity.notAfter = new Date(Math.min(now.getTime() + VALID_DAYS * DAY_MS, root.notAfter.getTime()))
  cert.setSubject([{ shortName: 'CN', value: names[0]!, valueTagClass: UTF8_STRING }])
  cert.setIssuer(root.subjectFields)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map(name => isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name }) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: toBinaryString(root.keyIdentifier) }
  ])
  const certPem = toPem('CERTIFICATE', signCertificate(cert, caSigningKey(caKey, root)))
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, notAfter: new X509Certificate(certPem).validToDate }
}
