/**
 * The organisation's PKI: one root CA per organisation, device keys that are also libp2p
 * identities, device certificates binding key + user + device name, signed CRLs, and the one-time
 * enrollment codes that bring a new device in. Errors are the typed classes in ../errors.ts.
 *
 * @example
 * ```ts
 * import { createOrgCA, unlockCAKey, generateDeviceKey, createCsr, issueDeviceCertificate, verifyDeviceCertificate } from './pki/index.ts'
 *
 * const ca = await createOrgCA({ orgName: 'Example Org', passphrase: 'correct horse battery' })
 * const caKey = unlockCAKey(ca.encryptedKeyPem, 'correct horse battery')
 * const { privateKeyPem } = generateDeviceKey()
 * const csrPem = createCsr({ privateKeyPem, deviceName: "Ada's laptop" })
 * const { certPem } = issueDeviceCertificate({ caCertPem: ca.certPem, caKey, csrPem, user: 'ada@example.org' })
 * const peer = verifyDeviceCertificate({ certPem, caCertPem: ca.certPem })
 * console.log(peer.deviceId, peer.peerId, peer.user)
 * ```
 */
export { createOrgCA, unlockCAKey, caFingerprint } from './ca.ts'
export type { CaKey, OrgCA } from './ca.ts'
export { generateDeviceKey, libp2pKeyFromPem, deviceIdFromSpki, peerIdFromSpki, createCsr } from './device-key.ts'
export { issueDeviceCertificate, readDeviceCertificate, verifyDeviceCertificate, readCsr } from './certificate.ts'
export type { DeviceIdentity, IssuedCertificate, CsrContents } from './certificate.ts'
export { createCrl, parseCrl, isNewerCrl, crlToPem, crlFromPem } from './crl.ts'
export type { Crl, RevokedCertificate } from './crl.ts'
export { encodeEnrollmentCode, decodeEnrollmentCode, newEnrollmentSecret, hashEnrollmentSecret } from './enrollment-code.ts'
export type { EnrollmentCode } from './enrollment-code.ts'
export { openCaStore } from './ca-store.ts'
export { findDevice } from './device-lookup.ts'
export { issueWebCertificate } from './web-certificate.ts'
export type { WebCertificate } from './web-certificate.ts'
export type { CaStore, DeviceRecord } from './ca-store.ts'
