import { beforeAll, describe, expect, it } from 'vitest'
import { CaLockedError, InvalidCertificateError, InvalidInputError } from '../../src/errors.ts'
import {
  caFingerprint, createCsr, createOrgCA, generateDeviceKey, issueDeviceCertificate, unlockCAKey
} from '../../src/pki/index.ts'
import { createOrg, openssl, PASSPHRASE, withTempDir, type Org } from './fixtures.ts'

describe('organisation root CA', () => {
  let org: Org

  beforeAll(async () => {
    org = await createOrg('Société Exemple')
  })

  it('is a 20-year, 3072-bit RSA CA certificate that OpenSSL accepts as a root', () => {
    withTempDir(dir => {
      const text = openssl(dir, { 'ca.pem': org.certPem }, ['x509', '-in', 'ca.pem', '-noout', '-text', '-nameopt', 'utf8'])
      expect(text.status).toBe(0)
      expect(text.output).toContain('Public-Key: (3072 bit)')
      expect(text.output).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/)
      expect(text.output).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/)
      expect(text.output).toContain('X509v3 Subject Key Identifier')
      expect(text.output).toContain('O=Société Exemple')
      expect(text.output).toContain('sha256WithRSAEncryption')
      const notAfter = /Not After : (.+)/.exec(text.output)?.[1]
      expect(new Date(notAfter!).getUTCFullYear()).toBe(new Date().getUTCFullYear() + 20)

      expect(openssl(dir, {}, ['verify', '-CAfile', 'ca.pem', 'ca.pem']).output).toContain('ca.pem: OK')
    })
  })

  it('reports the sha256 fingerprint of the certificate, as OpenSSL computes it', () => {
    withTempDir(dir => {
      const { output } = openssl(dir, { 'ca.pem': org.certPem }, ['x509', '-in', 'ca.pem', '-noout', '-fingerprint', '-sha256'])
      const expected = output.split('=')[1]!.trim().replaceAll(':', '').toLowerCase()
      expect(org.fingerprint).toBe(expected)
      expect(caFingerprint(org.certPem)).toBe(expected)
    })
  })

  it('stores the key encrypted, in a form OpenSSL can decrypt with the passphrase', () => {
    expect(org.encryptedKeyPem).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----')
    withTempDir(dir => {
      const files = { 'key.pem': org.encryptedKeyPem }
      expect(openssl(dir, files, ['pkey', '-in', 'key.pem', '-passin', `pass:${PASSPHRASE}`, '-noout']).status).toBe(0)
      expect(openssl(dir, files, ['pkey', '-in', 'key.pem', '-passin', 'pass:wrong passphrase', '-noout']).status).not.toBe(0)
      expect(openssl(dir, files, ['asn1parse', '-in', 'key.pem']).output).toMatch(/hmacWithSHA256[\s\S]*aes-256-cbc/)
    })
  })

  it('unlocks with the right passphrase only', () => {
    expect(() => unlockCAKey(org.encryptedKeyPem, 'wrong passphrase')).toThrow(CaLockedError)
    expect(() => unlockCAKey(org.encryptedKeyPem, 'wrong passphrase')).toThrow(/wrong CA passphrase/)
    expect(() => unlockCAKey(org.encryptedKeyPem, '')).toThrow(CaLockedError)
    expect(unlockCAKey(org.encryptedKeyPem, PASSPHRASE)).toBeDefined()
  })

  it('calls a damaged or unencrypted key file damaged, not a wrong passphrase', () => {
    const damaged = org.encryptedKeyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')
    expect(() => unlockCAKey(damaged, PASSPHRASE)).toThrow(/damaged/)
    expect(() => unlockCAKey('not a key', PASSPHRASE)).toThrow(CaLockedError)
    const { privateKeyPem } = generateDeviceKey()
    expect(() => unlockCAKey(privateKeyPem, PASSPHRASE)).toThrow(/damaged/)
  })

  it('refuses short passphrases and unprintable organisation names', async () => {
    await expect(createOrgCA({ orgName: 'Example', passphrase: 'short' })).rejects.toThrow(InvalidInputError)
    await expect(createOrgCA({ orgName: 'Example', passphrase: 'short' })).rejects.toThrow(/at least 8 characters/)
    await expect(createOrgCA({ orgName: '', passphrase: PASSPHRASE })).rejects.toThrow(InvalidInputError)
    await expect(createOrgCA({ orgName: 'bad\u0000name', passphrase: PASSPHRASE })).rejects.toThrow(InvalidInputError)
  })

  it('never exposes key material through the unlocked key handle', () => {
    const caKey = unlockCAKey(org.encryptedKeyPem, PASSPHRASE)
    expect(JSON.stringify(caKey)).not.toMatch(/PRIVATE|MII/)
    expect(Object.keys(caKey)).toEqual(['description'])
  })

  it("refuses to sign with a key that is not this certificate's", async () => {
    const other = await createOrg('Other Org')
    const csrPem = createCsr({ privateKeyPem: generateDeviceKey().privateKeyPem, deviceName: 'laptop' })
    expect(() => issueDeviceCertificate({ caCertPem: org.certPem, caKey: other.caKey, csrPem, user: 'ada@example.org' }))
      .toThrow(CaLockedError)
  })

  it('refuses a CA certificate that is not one', () => {
    expect(() => caFingerprint('garbage')).toThrow(InvalidCertificateError)
  })
})
