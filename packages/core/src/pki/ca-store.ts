import { DatabaseSync, type SQLOutputValue } from 'node:sqlite'
import { EnrollmentError, InvalidInputError } from '../errors.ts'
import { migrateSchema } from '../util/sqlite-schema.ts'
import { findDevice } from './device-lookup.ts'
import { isValidEmail, isValidName, NAME_RULE } from './names.ts'
import { normaliseSerial } from './serial.ts'

/** A device certificate the CA has issued, as the CA holder remembers it. */
export interface DeviceRecord {
  serial: string
  deviceId: string
  peerId: string
  user: string
  deviceName: string
  issuedAt: Date
  revokedAt?: Date
}

/** The CA holder's records: pending enrollment codes, issued certificates, revocations, CRL numbers. */
export interface CaStore extends Disposable {
  addEnrollmentCode (code: { secretHash: string, user: string, deviceName?: string, expiresAt: Date }): void
  /** Marks the code used, once: a second redemption, an unknown or an expired code is an EnrollmentError. */
  redeemEnrollmentCode (secretHash: string, now?: Date): { user: string, deviceName?: string }
  recordIssued (device: { serial: string, deviceId: string, peerId: string, user: string, deviceName: string, certPem: string, issuedAt: Date }): void
  listDevices (): DeviceRecord[]
  /** By exact device id, a unique device id prefix (4+ characters) or a unique device name. */
  findDevice (idOrPrefixOrName: string): DeviceRecord
  /** True when newly revoked, false when it already was. */
  revoke (serial: string, at: Date): boolean
  revokedList (): Array<{ serial: string, revokedAt: Date }>
  /** The next CRL number, persisted so CRLs stay monotonic across restarts. */
  nextCrlNumber (): bigint
  close (): void
}

const SCHEMA_VERSION = 1
const SCHEMA = `
  CREATE TABLE enrollment_codes (
    secret_hash TEXT PRIMARY KEY,
    user_email TEXT NOT NULL,
    device_name TEXT,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) STRICT;
  CREATE TABLE devices (
    serial TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    user_email TEXT NOT NULL,
    device_name TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) STRICT;
  CREATE INDEX devices_by_device_id ON devices (device_id);
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
`

/** Opens (creating if needed) the CA store. WAL and a busy timeout let the CLI and the agent share it. */
export function openCaStore (path: string): CaStore {
  const db = new DatabaseSync(path)
  try {
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('PRAGMA journal_mode = WAL')
    migrate(db)
  } catch (err) {
    db.close()
    throw err
  }

  const statements = {
    addCode: db.prepare('INSERT INTO enrollment_codes (secret_hash, user_email, device_name, expires_at) VALUES (?, ?, ?, ?)'),
    redeem: db.prepare('UPDATE enrollment_codes SET used_at = ? WHERE secret_hash = ? AND used_at IS NULL AND expires_at > ?'),
    code: db.prepare('SELECT user_email, device_name, expires_at, used_at FROM enrollment_codes WHERE secret_hash = ?'),
    addDevice: db.prepare(`INSERT INTO devices (serial, device_id, peer_id, user_email, device_name, cert_pem, issued_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    devices: db.prepare('SELECT serial, device_id, peer_id, user_email, device_name, issued_at, revoked_at FROM devices ORDER BY issued_at, serial'),
    revoke: db.prepare('UPDATE devices SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL'),
    device: db.prepare('SELECT revoked_at FROM devices WHERE serial = ?'),
    revoked: db.prepare('SELECT serial, revoked_at FROM devices WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial'),
    nextCrlNumber: db.prepare(`INSERT INTO counters (name, value) VALUES ('crl_number', 1)
      ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`)
  }
  statements.nextCrlNumber.setReadBigInts(true)

  function listDevices (): DeviceRecord[] {
    return statements.devices.all().map(row => ({
      serial: text(row.serial),
      deviceId: text(row.device_id),
      peerId: text(row.peer_id),
      user: text(row.user_email),
      deviceName: text(row.device_name),
      issuedAt: new Date(Number(row.issued_at)),
      ...(row.revoked_at === null ? {} : { revokedAt: new Date(Number(row.revoked_at)) })
    }))
  }

  const store: CaStore = {
    addEnrollmentCode ({ secretHash, user, deviceName, expiresAt }) {
      if (!/^[0-9a-f]{64}$/.test(secretHash)) throw new InvalidInputError('the enrollment secret hash must be 64 lowercase hex digits')
      if (!isValidEmail(user)) throw new InvalidInputError(`"${user}" does not look like an email address; give the user's email, e.g. ada@example.org`)
      if (deviceName !== undefined && !isValidName(deviceName)) throw new InvalidInputError(`the device name ${NAME_RULE}`)
      try {
        statements.addCode.run(secretHash, user, deviceName ?? null, expiresAt.getTime())
      } catch (err) {
        throw new EnrollmentError('this enrollment code already exists; make a new one', { cause: err })
      }
    },

    redeemEnrollmentCode (secretHash, now = new Date()) {
      // One statement decides, so two devices racing with the same code cannot both win.
      const { changes } = statements.redeem.run(now.getTime(), secretHash, now.getTime())
      const row = statements.code.get(secretHash)
      if (Number(changes) === 1 && row !== undefined) {
        return { user: text(row.user_email), ...(row.device_name === null ? {} : { deviceName: text(row.device_name) }) }
      }
      if (row === undefined) {
        throw new EnrollmentError('this enrollment code is not known to the CA; check it was typed right, or ask your administrator for a new one')
      }
      if (row.used_at !== null) throw new EnrollmentError('this enrollment code has already been used; ask your administrator for a new one')
      throw new EnrollmentError(`this enrollment code expired at ${new Date(Number(row.expires_at)).toISOString()}; ask your administrator for a new one`)
    },

    recordIssued ({ serial, deviceId, peerId, user, deviceName, certPem, issuedAt }) {
      statements.addDevice.run(normaliseSerial(serial), deviceId, peerId, user, deviceName, certPem, issuedAt.getTime())
    },

    listDevices,

    findDevice (query) {
      // A device enrolled more than once is shown by its newest certificate, preferring an unrevoked one.
      const byId = new Map<string, DeviceRecord>()
      for (const record of listDevices()) {
        const known = byId.get(record.deviceId)
        if (known === undefined || record.revokedAt === undefined || known.revokedAt !== undefined) byId.set(record.deviceId, record)
      }
      const found = findDevice([...byId.values()], query)
      if (found !== undefined) return found
      throw new InvalidInputError(`no enrolled device has the id or name "${query.trim()}"; list the devices to see their ids and names`)
    },

    revoke (serial, at) {
      const normal = normaliseSerial(serial)
      if (Number(statements.revoke.run(at.getTime(), normal).changes) === 1) return true
      if (statements.device.get(normal) === undefined) throw new InvalidInputError(`no certificate with serial ${normal} was issued by this CA; list the devices to see their serials`)
      return false
    },

    revokedList () {
      return statements.revoked.all().map(row => ({ serial: text(row.serial), revokedAt: new Date(Number(row.revoked_at)) }))
    },

    nextCrlNumber () {
      const row = statements.nextCrlNumber.get()
      return BigInt(row?.value as bigint)
    },

    close () {
      if (db.isOpen) db.close()
    },

    [Symbol.dispose] () {
      store.close()
    }
  }
  return store
}

function migrate (db: DatabaseSync): void {
  migrateSchema(db, { schema: SCHEMA, version: SCHEMA_VERSION, what: 'CA store' })
}

function text (value: SQLOutputValue | undefined): string {
  return String(value)
}
