import { createHash } from 'node:crypto'
import forge from 'node-forge'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidCertificateError, InvalidInputError, InvalidKeyError, UntrustedPeerError
} from '../../src/errors.ts'
import {
  createCsr, deviceIdFromSpki, generateDeviceKey, issueDeviceCertificate, libp2pKeyFromPem, readCsr, readDeviceCertificate,
  unlockCAKey, verifyDeviceCertificate
} from '../../src/pki/index.ts'
import { base32Decode, base32Encode } from '../../src/pki/base32.ts'
import { createOrg, enrollDevice, forgeCaKey, openssl, PASSPHRASE, pemToDer, derToPem, withTempDir, type Device, type Org } from './fixtures.ts'

const DAY = 86_400_000

describe('device certificates', () => {
  let org: Org
  let otherOrg: Org
  let device: Device
  let otherKeyPem: string

  beforeAll(async () => {
    // Same organisation name on purpose: only the key tells the two CAs apart.
    [org, otherOrg] = await Promise.all([createOrg('Example Org'), createOrg('Example Org')])
    device = enrollDevice(org, { deviceName: "Ada's laptop ✈", user: 'ada@example.org' })
    otherKeyPem = generateDeviceKey().privateKeyPem
  })

  it('round-trips: the CA issues, any peer verifies and learns who it is talking to', () => {
    const identity = verifyDeviceCertificate({ certPem: device.certPem, caCertPem: org.certPem, peerPublicKeySpki: device.spki })
    const libp2pKey = libp2pKeyFromPem(device.privateKeyPem)
    expect(identity).toMatchObject({
      deviceId: device.deviceId,
      peerId: peerIdFromPrivateKey(libp2pKey).toString(),
      user: 'ada@example.org',
      deviceName: "Ada's laptop ✈",
      serial: device.serial
    })
    expect(device.peerId).toBe(identity.peerId)
    expect(identity.peerId).toMatch(/^Qm/)
    expect(Buffer.from(identity.spkiDer).equals(libp2pKey.publicKey.raw)).toBe(true)
    expect(identity.notAfter.getTime() - identity.notBefore.getTime()).toBe(825 * DAY + 5 * 60_000)
  })

  it('derives the device id from the key: 16 base32 characters of sha256(SPKI)', () => {
    // RFC 4648 test vectors, lowercase and unpadded.
    const vectors = { '': '', f: 'my', fo: 'mzxq', foo: 'mzxw6', foob: 'mzxw6yq', fooba: 'mzxw6ytb', foobar: 'mzxw6ytboi' }
    for (const [plain, encoded] of Object.entries(vectors)) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded)
      expect(Buffer.from(base32Decode(encoded)!).toString()).toBe(plain)
    }
    const digest = createHash('sha256').update(device.spki).digest()
    const expected = base32Encode(digest).slice(0, 16)
    expect(deviceIdFromSpki(device.spki)).toBe(expected)
    expect(device.deviceId).toBe(expected)
  })

  it('issues certificates OpenSSL verifies against the root, with the agreed extensions', () => {
    withTempDir(dir => {
      const files = { 'ca.pem': org.certPem, 'device.pem': device.certPem }
      const verified = openssl(dir, files, ['verify', '-CAfile', 'ca.pem', '-purpose', 'sslclient', 'device.pem'])
      expect(verified.output).toContain('device.pem: OK')
      const { output } = openssl(dir, {}, ['x509', '-in', 'device.pem', '-noout', '-text'])
      expect(output).toMatch(/Basic Constraints:\s+CA:FALSE/)
      expect(output).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/)
      expect(output).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/)
      expect(output).toContain(`email:ada@example.org, URI:urn:aerie:device:${device.deviceId}, URI:urn:libp2p:${device.peerId}`)
      expect(output).toContain('X509v3 Authority Key Identifier')
      expect(output).toContain('Public-Key: (3072 bit)')
    })
  })

  it('gives each certificate a random positive 128-bit serial', () => {
    const again = enrollDevice(org, { privateKeyPem: device.privateKeyPem })
    expect(again.serial).not.toBe(device.serial)
    expect(device.serial).toMatch(/^[4-7][0-9a-f]{31}$/)
    expect(again.deviceId).toBe(device.deviceId)
  })

  it("refuses a certificate from another organisation's CA, even with the same name", () => {
    const foreign = enrollDevice(otherOrg)
    expect(() => verifyDeviceCertificate({ certPem: foreign.certPem, caCertPem: org.certPem }))
      .toThrow(UntrustedPeerError)
    expect(() => verifyDeviceCertificate({ certPem: foreign.certPem, caCertPem: org.certPem }))
      .toThrow("certificate was not issued by this organisation's CA")
  })

  it('refuses an expired certificate and one not yet valid, allowing five minutes of clock skew', () => {
    const issuedAt = new Date('2030-01-01T00:00:00Z')
    const shortLived = enrollDevice(org, { now: issuedAt, validDays: 1 })
    const verifyAt = (now: Date): unknown => verifyDeviceCertificate({ certPem: shortLived.certPem, caCertPem: org.certPem, now })

    expect(verifyAt(new Date(issuedAt.getTime() + DAY / 2))).toBeDefined()
    expect(verifyAt(new Date(issuedAt.getTime() - 4 * 60_000))).toBeDefined()
    expect(() => verifyAt(new Date(issuedAt.getTime() + 2 * DAY))).toThrow(UntrustedPeerError)
    expect(() => verifyAt(new Date(issuedAt.getTime() + 2 * DAY))).toThrow(/expired/)
    expect(() => verifyAt(new Date(issuedAt.getTime() - 3600_000))).toThrow(UntrustedPeerError)
    expect(() => verifyAt(new Date(issuedAt.getTime() - 3600_000))).toThrow(/not yet valid/)
  })

  it('never issues a certificate that outlives the CA', () => {
    const nearCaExpiry = new Date(readDeviceCertificate(device.certPem).notBefore.getTime() + 20 * 365 * DAY - 10 * DAY)
    const late = enrollDevice(org, { now: nearCaExpiry })
    const caNotAfter = new Date(/Not After : (.+)/.exec(withTempDir(dir => openssl(dir, { 'ca.pem': org.certPem }, ['x509', '-in', 'ca.pem', '-noout', '-text']).output))![1]!)
    expect(readDeviceCertificate(late.certPem).notAfter.getTime()).toBeLessThanOrEqual(caNotAfter.getTime())
  })

  it("refuses a certificate presented over a connection with another peer's key", () => {
    const otherSpki = libp2pKeyFromPem(otherKeyPem).publicKey.raw
    expect(() => verifyDeviceCertificate({ certPem: device.certPem, caCertPem: org.certPem, peerPublicKeySpki: otherSpki }))
      .toThrow("certificate does not match the connection's peer key")
    expect(() => verifyDeviceCertificate({ certPem: device.certPem, caCertPem: org.certPem, peerPublicKeySpki: new Uint8Array([1, 2, 3]) }))
      .toThrow(UntrustedPeerError)
  })

  it('refuses a CA-signed certificate whose device id or peer id does not belong to its key', () => {
    const victim = readDeviceCertificate(device.certPem)
    const attackerKey = forge.pki.privateKeyFromPem(otherKeyPem) as forge.pki.rsa.PrivateKey
    const cert = forge.pki.createCertificate()
    cert.publicKey = forge.pki.setRsaPublicKey(attackerKey.n, attackerKey.e)
    cert.serialNumber = '4a'
    cert.validity.notBefore = new Date(Date.now() - DAY)
    cert.validity.notAfter = new Date(Date.now() + DAY)
    cert.setSubject([{ shortName: 'CN', value: 'laptop' }])
    const ca = forge.pki.certificateFromPem(org.certPem)
    cert.setIssuer(ca.subject.attributes)
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes((ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier) },
      { name: 'subjectAltName', altNames: [{ type: 1, value: 'mallory@example.org' }, { type: 6, value: `urn:aerie:device:${victim.deviceId}` }, { type: 6, value: `urn:libp2p:${victim.peerId}` }] }
    ])
    cert.sign(forgeCaKey(org), forge.md.sha256.create())
    const certPem = forge.pki.certificateToPem(cert)
    expect(() => verifyDeviceCertificate({ certPem, caCertPem: org.certPem })).toThrow(UntrustedPeerError)
    expect(() => verifyDeviceCertificate({ certPem, caCertPem: org.certPem })).toThrow(/different device than its own key/)
  })

  it('refuses a certificate whose signed bytes were altered', () => {
    const der = pemToDer(device.certPem)
    const at = Buffer.from(der).indexOf('ada@example.org')
    der[at] = 'e'.charCodeAt(0) // eda@example.org
    const tampered = derToPem('CERTIFICATE', der)
    expect(readDeviceCertificate(tampered).user).toBe('eda@example.org')
    expect(() => verifyDeviceCertificate({ certPem: tampered, caCertPem: org.certPem })).toThrow(UntrustedPeerError)
  })

  it('refuses every single flipped byte', () => {
    const der = pemToDer(device.certPem)
    for (let i = 0; i < der.length; i++) {
      const flipped = der.slice()
      flipped[i]! ^= 0x01
      const certPem = derToPem('CERTIFICATE', flipped)
      expect(() => verifyDeviceCertificate({ certPem, caCertPem: org.certPem }), `byte ${i}`).toThrow(/certificate/)
    }
  })

  it('does not accept a device certificate as the organisation root', () => {
    expect(() => verifyDeviceCertificate({ certPem: device.certPem, caCertPem: device.certPem })).toThrow(InvalidCertificateError)
  })

  it('checks the CSR: its signature, the email and the device name', () => {
    const csrPem = createCsr({ privateKeyPem: otherKeyPem, deviceName: 'desktop' })
    const caKey = unlockCAKey(org.encryptedKeyPem, PASSPHRASE)
    const issue = (overrides: { csrPem?: string, user?: string, deviceName?: string, validDays?: number }): unknown =>
      issueDeviceCertificate({ caCertPem: org.certPem, caKey, csrPem, user: 'bob@example.org', ...overrides })

    // A CSR whose signed name was changed no longer proves possession of the key.
    const der = pemToDer(csrPem)
    der[Buffer.from(der).indexOf('desktop')] = 'D'.charCodeAt(0)
    expect(() => issue({ csrPem: derToPem('CERTIFICATE REQUEST', der) })).toThrow(InvalidCertificateError)
    expect(() => issue({ csrPem: 'not a csr' })).toThrow(InvalidCertificateError)
    expect(() => issue({ user: 'not-an-email' })).toThrow(InvalidInputError)
    expect(() => issue({ user: 'bob@localhost' })).toThrow(/email address/)
    expect(() => issue({ deviceName: '' })).toThrow(InvalidInputError)
    expect(() => issue({ deviceName: 'x'.repeat(65) })).toThrow(InvalidInputError)
    expect(() => issue({ deviceName: 'tab\there' })).toThrow(InvalidInputError)
    expect(() => issue({ validDays: 0 })).toThrow(InvalidInputError)

    const renamed = issueDeviceCertificate({ caCertPem: org.certPem, caKey, csrPem, user: 'bob@example.org', deviceName: 'Bob’s desktop' })
    expect(readDeviceCertificate(renamed.certPem).deviceName).toBe('Bob’s desktop')
    expect(readCsr(csrPem)).toMatchObject({ deviceName: 'desktop' })
    expect(Buffer.from(readCsr(csrPem).spkiDer).equals(libp2pKeyFromPem(otherKeyPem).publicKey.raw)).toBe(true)
  })

  it('refuses device names nobody could read and keys Aerie does not use', () => {
    expect(() => createCsr({ privateKeyPem: otherKeyPem, deviceName: ' padded ' })).toThrow(InvalidInputError)
    expect(() => createCsr({ privateKeyPem: otherKeyPem, deviceName: 'zero\u200bwidth' })).toThrow(InvalidInputError)
    expect(() => createCsr({ privateKeyPem: 'not a key', deviceName: 'laptop' })).toThrow(InvalidKeyError)
    expect(() => libp2pKeyFromPem('not a key')).toThrow(InvalidKeyError)
  })
})
