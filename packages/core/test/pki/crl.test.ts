import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidCrlError, InvalidInputError, RevokedDeviceError } from '../../src/errors.ts'
import { createCrl, crlFromPem, crlToPem, isNewerCrl, parseCrl, verifyDeviceCertificate } from '../../src/pki/index.ts'
import { createOrg, enrollDevice, openssl, withTempDir, type Device, type Org } from './fixtures.ts'

describe('certificate revocation lists', () => {
  let org: Org
  let otherOrg: Org
  let revokedDevice: Device
  let keptDevice: Device

  beforeAll(async () => {
    [org, otherOrg] = await Promise.all([createOrg(), createOrg()])
    revokedDevice = enrollDevice(org, { deviceName: 'stolen laptop' })
    keptDevice = enrollDevice(org, { deviceName: 'desktop' })
  })

  const crlOf = (number: bigint | number, revoked: Device[] = [], target = org): Uint8Array =>
    createCrl({ caCertPem: target.certPem, caKey: target.caKey, number, revoked: revoked.map(d => ({ serial: d.serial, revokedAt: new Date() })) })

  it('builds CRLs that OpenSSL verifies against the root and reads the CRL number from', () => {
    withTempDir(dir => {
      const files = { 'ca.pem': org.certPem, 'crl.der': crlOf(42, [revokedDevice]), 'empty.der': crlOf(1) }
      const verified = openssl(dir, files, ['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'ca.pem', '-noout', '-verify'])
      expect(verified.status).toBe(0)
      expect(verified.output).toContain('verify OK')
      const { output } = openssl(dir, {}, ['crl', '-inform', 'DER', '-in', 'crl.der', '-noout', '-text'])
      expect(output).toMatch(/X509v3 CRL Number:\s+42/)
      expect(output).toContain('X509v3 Authority Key Identifier')
      expect(output).toContain('Version 2')
      expect(output).toContain(`Serial Number: ${revokedDevice.serial.toUpperCase()}`)
      expect(openssl(dir, {}, ['crl', '-inform', 'DER', '-in', 'empty.der', '-CAfile', 'ca.pem', '-noout', '-verify']).output).toContain('verify OK')
    })
  })

  it('reads back what it wrote: number, dates and revoked serials', () => {
    const now = new Date('2031-05-06T07:08:09Z')
    const number = 2n ** 100n + 7n
    const der = createCrl({ caCertPem: org.certPem, caKey: org.caKey, number, revoked: [{ serial: revokedDevice.serial, revokedAt: now }], now, nextUpdateDays: 7 })
    const crl = parseCrl(der, org.certPem)
    expect(crl.number).toBe(number)
    expect(crl.thisUpdate).toEqual(now)
    expect(crl.nextUpdate).toEqual(new Date('2031-05-13T07:08:09Z'))
    expect([...crl.revokedSerials]).toEqual([revokedDevice.serial])
    expect(crl.caFingerprint).toBe(org.fingerprint)
    expect(parseCrl(crlFromPem(crlToPem(der)), org.certPem).number).toBe(number)
  })

  it('spells serials the same way certificates do, whatever the input spelling', () => {
    const serials = ['00ABCDEF', 'abcdef', '80', '7f']
    const der = createCrl({ caCertPem: org.certPem, caKey: org.caKey, number: 1, revoked: serials.map(serial => ({ serial, revokedAt: new Date() })) })
    expect([...parseCrl(der, org.certPem).revokedSerials].sort()).toEqual(['7f', '80', 'abcdef'])
    expect(() => createCrl({ caCertPem: org.certPem, caKey: org.caKey, number: 1, revoked: [{ serial: 'xyz', revokedAt: new Date() }] }))
      .toThrow(InvalidInputError)
    expect(() => createCrl({ caCertPem: org.certPem, caKey: org.caKey, number: -1, revoked: [] })).toThrow(InvalidInputError)
  })

  it('makes verification refuse revoked devices and only them', () => {
    const crl = parseCrl(crlOf(3, [revokedDevice]), org.certPem)
    expect(() => verifyDeviceCertificate({ certPem: revokedDevice.certPem, caCertPem: org.certPem, crl })).toThrow(RevokedDeviceError)
    expect(() => verifyDeviceCertificate({ certPem: revokedDevice.certPem, caCertPem: org.certPem, crl })).toThrow(/stolen laptop.*revoked/)
    expect(verifyDeviceCertificate({ certPem: keptDevice.certPem, caCertPem: org.certPem, crl }).deviceName).toBe('desktop')
  })

  it("refuses a CRL signed by another organisation's CA", () => {
    expect(() => parseCrl(crlOf(99, [keptDevice], otherOrg), org.certPem)).toThrow(InvalidCrlError)
    const foreign = parseCrl(crlOf(99, [keptDevice], otherOrg), otherOrg.certPem)
    expect(() => verifyDeviceCertificate({ certPem: keptDevice.certPem, caCertPem: org.certPem, crl: foreign })).toThrow(InvalidCrlError)
  })

  it('refuses every single flipped byte', () => {
    const der = crlOf(5, [revokedDevice, keptDevice])
    for (let i = 0; i < der.length; i++) {
      const forged = der.slice()
      forged[i]! ^= 0x01
      expect(() => parseCrl(forged, org.certPem), `byte ${i}`).toThrow(InvalidCrlError)
    }
  })

  it('refuses truncated and padded CRLs', () => {
    const der = crlOf(6)
    expect(() => parseCrl(der.subarray(0, der.length - 1), org.certPem)).toThrow(InvalidCrlError)
    expect(() => parseCrl(new Uint8Array([...der, 0]), org.certPem)).toThrow(InvalidCrlError)
    expect(() => crlFromPem('-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----')).toThrow(InvalidCrlError)
  })

  it('only ever moves forward: an older or equal CRL number is not newer', () => {
    const older = parseCrl(crlOf(10), org.certPem)
    const newer = parseCrl(crlOf(11, [revokedDevice]), org.certPem)
    expect(isNewerCrl(older, undefined)).toBe(true)
    expect(isNewerCrl(newer, older)).toBe(true)
    expect(isNewerCrl(older, newer)).toBe(false)
    expect(isNewerCrl(newer, newer)).toBe(false)
  })
})
