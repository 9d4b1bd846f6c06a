import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EnrollmentError, InvalidInputError } from '../../src/errors.ts'
import { hashEnrollmentSecret, newEnrollmentSecret, openCaStore } from '../../src/pki/index.ts'
import type { CaStore } from '../../src/pki/index.ts'

const NOW = new Date('2030-03-01T12:00:00Z')
const HOUR = 3600_000

describe('CA store', () => {
  let dir: string
  let path: string
  let store: CaStore

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aerie-ca-store-'))
    path = join(dir, 'ca.sqlite')
    store = openCaStore(path)
  })

  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const newCode = (expiresAt = new Date(NOW.getTime() + HOUR), deviceName?: string): string => {
    const secretHash = hashEnrollmentSecret(newEnrollmentSecret())
    store.addEnrollmentCode({ secretHash, user: 'ada@example.org', ...(deviceName === undefined ? {} : { deviceName }), expiresAt })
    return secretHash
  }

  const device = (serial: string, deviceId: string, deviceName: string, issuedAt = NOW): Parameters<CaStore['recordIssued']>[0] =>
    ({ serial, deviceId, peerId: `Qm${deviceId}`, user: 'ada@example.org', deviceName, certPem: '-----BEGIN CERTIFICATE-----', issuedAt })

  it('redeems an enrollment code exactly once', () => {
    const code = newCode(undefined, 'laptop')
    expect(store.redeemEnrollmentCode(code, NOW)).toEqual({ user: 'ada@example.org', deviceName: 'laptop' })
    expect(() => store.redeemEnrollmentCode(code, NOW)).toThrow(EnrollmentError)
    expect(() => store.redeemEnrollmentCode(code, NOW)).toThrow(/already been used/)
  })

  it('lets only one of two connections (the CLI and the agent) redeem the same code', () => {
    const code = newCode()
    const other = openCaStore(path)
    try {
      const results = [store, other].map(s => {
        try {
          return s.redeemEnrollmentCode(code, NOW)
        } catch (err) {
          return err
        }
      })
      expect(results.filter(r => r instanceof EnrollmentError)).toHaveLength(1)
      expect(results.filter(r => !(r instanceof Error))).toEqual([{ user: 'ada@example.org' }])
    } finally {
      other.close()
    }
  })

  it('refuses a code for a user or device name nobody could use', () => {
    const secretHash = hashEnrollmentSecret(newEnrollmentSecret())
    const expiresAt = new Date(NOW.getTime() + HOUR)
    expect(() => store.addEnrollmentCode({ secretHash, user: 'ada', expiresAt })).toThrow(InvalidInputError)
    expect(() => store.addEnrollmentCode({ secretHash, user: 'ada@example.org', deviceName: '', expiresAt })).toThrow(InvalidInputError)
    expect(() => store.redeemEnrollmentCode(secretHash, NOW)).toThrow(/not known/)
  })

  it('says whether a code is unknown, expired or used', () => {
    const code = newCode(new Date(NOW.getTime() + HOUR))
    expect(() => store.redeemEnrollmentCode('0'.repeat(64), NOW)).toThrow(/not known/)
    expect(() => store.redeemEnrollmentCode(code, new Date(NOW.getTime() + HOUR))).toThrow(/expired/)
    expect(() => store.redeemEnrollmentCode(code, new Date(NOW.getTime() + 2 * HOUR))).toThrow(EnrollmentError)
    // Still unused: a failed (expired) attempt does not consume it.
    expect(store.redeemEnrollmentCode(code, new Date(NOW.getTime() + HOUR - 1))).toEqual({ user: 'ada@example.org' })
  })

  it('lists issued devices and finds one by id, id prefix or name', () => {
    store.recordIssued(device('4a01', 'abcdefghijklmnop', 'laptop'))
    store.recordIssued(device('4a02', 'abcdzzzzzzzzzzzz', 'desktop', new Date(NOW.getTime() + 1)))
    store.recordIssued(device('4a03', 'qrstuvwxyz234567', 'desktop', new Date(NOW.getTime() + 2)))

    expect(store.listDevices().map(d => d.serial)).toEqual(['4a01', '4a02', '4a03'])
    expect(store.listDevices()[0]).toEqual({
      serial: '4a01', deviceId: 'abcdefghijklmnop', peerId: 'Qmabcdefghijklmnop', user: 'ada@example.org', deviceName: 'laptop', issuedAt: NOW
    })
    expect(store.findDevice('abcdefghijklmnop').serial).toBe('4a01')
    expect(store.findDevice('ABCDE').serial).toBe('4a01')
    expect(store.findDevice('qrst').serial).toBe('4a03')
    expect(store.findDevice('laptop').serial).toBe('4a01')
    expect(() => store.findDevice('abcd')).toThrow(/several device ids/)
    expect(() => store.findDevice('desktop')).toThrow(/several devices are named "desktop"/)
    expect(() => store.findDevice('abc')).toThrow(InvalidInputError)
    expect(() => store.findDevice('phone')).toThrow(/no enrolled device/)
  })

  it('shows a re-enrolled device by its newest unrevoked certificate', () => {
    store.recordIssued(device('4b01', 'abcdefghijklmnop', 'laptop'))
    store.recordIssued(device('4b02', 'abcdefghijklmnop', 'laptop', new Date(NOW.getTime() + HOUR)))
    expect(store.findDevice('laptop').serial).toBe('4b02')
    store.revoke('4b02', NOW)
    expect(store.findDevice('laptop').serial).toBe('4b01')
  })

  it('revokes once and lists what is revoked', () => {
    store.recordIssued(device('4c01', 'abcdefghijklmnop', 'laptop'))
    store.recordIssued(device('4c02', 'qrstuvwxyz234567', 'phone'))
    expect(store.revoke('004C01', NOW)).toBe(true)
    expect(store.revoke('4c01', new Date(NOW.getTime() + HOUR))).toBe(false)
    expect(store.revokedList()).toEqual([{ serial: '4c01', revokedAt: NOW }])
    expect(store.findDevice('laptop').revokedAt).toEqual(NOW)
    expect(() => store.revoke('ffff', NOW)).toThrow(InvalidInputError)
  })

  it('hands out CRL numbers that keep increasing across restarts', () => {
    expect(store.nextCrlNumber()).toBe(1n)
    expect(store.nextCrlNumber()).toBe(2n)
    store.close()
    store = openCaStore(path)
    expect(store.nextCrlNumber()).toBe(3n)
  })

  it('uses WAL and a busy timeout so the CLI and the agent can share it', () => {
    store.close()
    const db = new DatabaseSync(path)
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    db.close()
    store = openCaStore(path)
    using other = openCaStore(path)
    expect(other.listDevices()).toEqual([])
  })
})
