import { sign, type KeyObject } from 'node:crypto'
import forge from 'node-forge'
import { SHA256_WITH_RSA, toDer, type Asn1 } from './asn1.ts'
import { toBinaryString } from './bytes.ts'

// forge builds the documents; node:crypto (OpenSSL) signs them: constant-time RSA, and ~50x faster
// than forge's pure-JS RSA. These mirror forge's own cert.sign()/csr.sign() with the signer swapped.
interface ForgeInternals {
  getTBSCertificate (cert: forge.pki.Certificate): Asn1
  getCertificationRequestInfo (csr: forge.pki.CertificateSigningRequest): Asn1
}
const internals = forge.pki as unknown as ForgeInternals

export function signCertificate (cert: forge.pki.Certificate, key: KeyObject): Uint8Array {
  cert.signatureOid = cert.siginfo.algorithmOid = SHA256_WITH_RSA
  cert.tbsCertificate = internals.getTBSCertificate(cert)
  cert.signature = toBinaryString(sign('sha256', toDer(cert.tbsCertificate), key))
  return toDer(forge.pki.certificateToAsn1(cert))
}

export function signCsr (csr: forge.pki.CertificateSigningRequest, key: KeyObject): Uint8Array {
  csr.signatureOid = csr.siginfo.algorithmOid = SHA256_WITH_RSA
  csr.certificationRequestInfo = internals.getCertificationRequestInfo(csr)
  csr.signature = toBinaryString(sign('sha256', toDer(csr.certificationRequestInfo), key))
  return toDer(forge.pki.certificationRequestToAsn1(csr))
}
