import { constants, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import {
  AerieError, InvalidCrlError, InvalidInputError, InvalidKeyError, ProtocolError, RevokedDeviceError, UntrustedPeerError
} from '../errors.ts'
import { readDeviceCertificate, verifyDeviceCertificate } from '../pki/index.ts'
import { isValidEmail, isValidName } from '../pki/names.ts'
import { loadOrgRoot } from '../pki/org-root.ts'
import type { Crl, DeviceIdentity } from '../pki/index.ts'

/**
 * Who may sync a folder: a versioned list of member devices, signed by the owner device's key and
 * carrying the owner's certificate, so any device of the organisation can check it. Only the
 * owner's signature counts, so no device can grant itself access — except the organisation's
 * team server (its certificate, issued by the CA, says so), whose admins manage membership from
 * the console. Neither can change who the owner is.
 */
export type FolderRole = 'owner' | 'editor' | 'viewer'

export interface FolderMember {
  deviceId: string
  role: FolderRole
}

/** Every device of a user (by the e-mail its certificate names) has this role, unless listed as a device itself. */
export interface FolderUser {
  user: string
  role: 'editor' | 'viewer'
}

/** Who asks: a device and the user its certificate names. */
export interface MemberIdentity {
  deviceId: string
  user?: string
}

export interface MembershipRecord {
  /** The folder id. */
  folder: string
  label: string
  /** 1 at creation, +1 with every change; the owner never signs two records with one version. */
  version: number
  /** The owner's device id; also in `members` with role 'owner'. */
  owner: string
  /** Sorted by device id, unique. */
  members: FolderMember[]
  /** Users whose every device is a member; sorted by e-mail, unique. Absent when there are none. */
  users?: FolderUser[]
  /** ISO time. */
  issuedAt: string
}

export interface SignedMembership {
  record: MembershipRecord
  /** The owner's device certificate (PEM). */
  certificate: string
  /** Base64 RSA-PSS signature over the record's canonical encoding. */
  signature: string
}

export type MemberChange =
  | { deviceId: string, role: 'editor' | 'viewer' } | { deviceId: string, remove: true }
  | { user: string, role: 'editor' | 'viewer' } | { user: string, remove: true }

export interface VerifyMembershipOptions {
  caCertificate: string
  crl?: Crl
  /** The folder's owner as this device already knows it: a record from anyone else is refused. */
  pinnedOwner?: string
  now?: Date
}

export const MAX_MEMBERS = 10_000
const MAX_TEXT = 256
const MAX_SIGNATURE_BASE64 = 1368 // an RSA-8192 signature, the largest device key
// What deviceIdFromSpki produces: 16 base32 characters.
const DEVICE_ID = /^[a-z2-7]{16}$/
const ROLES: readonly string[] = ['owner', 'editor', 'viewer']
// Distinct from every other thing a device key signs (TLS, libp2p, CSRs), so a signature made
// for one can never be replayed as another.
const DOMAIN = 'aerie-membership-v1\n'
// RSA-PSS (salt = digest length) rather than PKCS#1 v1.5: randomised and with a security proof.
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }

/** A new folder's membership: version 1, the owner alone. */
export function createMembership (options: { folder: string, label: string, ownerKeyPem: string, ownerCertificate: string, now?: Date }): SignedMembership {
  const { folder, label, ownerKeyPem, ownerCertificate, now = new Date() } = options
  if (!isValidName(folder, MAX_TEXT)) throw new InvalidInputError(`the folder id must be 1 to ${MAX_TEXT} printable characters without leading or trailing spaces`)
  if (!isValidName(label, MAX_TEXT)) throw new InvalidInputError(`the folder label must be 1 to ${MAX_TEXT} printable characters without leading or trailing spaces`)
  const owner = readDeviceCertificate(ownerCertificate).deviceId
  const record = { folder, label, version: 1, owner, members: [{ deviceId: owner, role: 'owner' as const }], issuedAt: now.toISOString() }
  return signRecord(record, ownerCertificate, ownerKeyPem)
}

/**
 * The next version with one member added, re-roled or removed. Returns `signed` itself when nothing
 * changes, so repeating a share does not bump the version. `ownerCertificate` replaces the carried
 * one (after the owner's certificate was renewed).
 */
export function changeMember (signed: SignedMembership, change: MemberChange, options: { ownerKeyPem: string, ownerCertificate?: string, now?: Date }): SignedMembership {
  const { ownerKeyPem, ownerCertificate = signed.certificate, now = new Date() } = options
  const record = checkShape(signed).record
  if ('role' in change && change.role !== 'editor' && change.role !== 'viewer') throw new InvalidInputError('a member can be made an editor or a viewer')
  let members = record.members
  let users = record.users ?? []
  if ('user' in change) {
    const { user } = change
    if (!isValidEmail(user)) throw new InvalidInputError(`"${String(user)}" is not a user's e-mail address`)
    const current = users.find(u => u.user === user)?.role
    if ('remove' in change ? current === undefined : current === change.role) return signed
    if (current === undefined && users.length >= MAX_MEMBERS) throw new InvalidInputError(`a folder can have at most ${MAX_MEMBERS} member users`)
    users = users.filter(u => u.user !== user)
    if (!('remove' in change)) users = [...users, { user, role: change.role }].sort((a, b) => compare(a.user, b.user))
  } else {
    const { deviceId } = change
    if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)) throw new InvalidInputError(`"${String(deviceId)}" is not a device id; device ids are 16 characters of a-z and 2-7`)
    if (deviceId === record.owner) throw new InvalidInputError('the owner of a folder cannot be removed or given another role')
    const current = members.find(m => m.deviceId === deviceId)?.role
    if ('remove' in change ? current === undefined : current === change.role) return signed
    if (current === undefined && members.length >= MAX_MEMBERS) throw new InvalidInputError(`a folder can have at most ${MAX_MEMBERS} member devices`)
    members = members.filter(member => member.deviceId !== deviceId)
    if (!('remove' in change)) members = [...members, { deviceId, role: change.role }].sort((a, b) => compare(a.deviceId, b.deviceId))
  }
  const signer = readDeviceCertificate(ownerCertificate)
  if (signer.deviceId !== record.owner && signer.role !== 'server') {
    throw new InvalidInputError(`the certificate is not the folder owner's (${record.owner}); only the owner device (or the team server) can change who is a member`)
  }
  const { users: _users, ...rest } = record
  return signRecord({ ...rest, version: record.version + 1, members, ...(users.length > 0 ? { users } : {}), issuedAt: now.toISOString() }, ownerCertificate, ownerKeyPem)
}

/**
 * Checks a record from anywhere (usually a peer) and returns it. Throws ProtocolError when it is
 * malformed or not signed by the owner it names, UntrustedPeerError when the owner's certificate
 * is not good or the owner is not `pinnedOwner`, and RevokedDeviceError when the owner is revoked.
 */
export function verifyMembership (signed: unknown, options: VerifyMembershipOptions): MembershipRecord {
  return checkMembership(signed, options).signed.record
}

/** verifyMembership, also returning the owner's certificate as verified. */
export function checkMembership (signed: unknown, options: VerifyMembershipOptions): { signed: SignedMembership, signer: DeviceIdentity } {
  const { caCertificate, crl, pinnedOwner, now } = options
  const checked = checkShape(signed)
  const { record } = checked
  if (pinnedOwner !== undefined && record.owner !== pinnedOwner) {
    throw new UntrustedPeerError(`folder "${record.folder}" is owned by device ${pinnedOwner}, but this membership record was made by ${record.owner}; only the owner can change who is a member`)
  }
  // A damaged CA certificate is this device's problem, not the record's: let it say so.
  loadOrgRoot(caCertificate)
  let signer: DeviceIdentity
  try {
    signer = verifyDeviceCertificate({ certPem: checked.certificate, caCertPem: caCertificate, ...(crl === undefined ? {} : { crl }), ...(now === undefined ? {} : { now }) })
  } catch (err) {
    // Revocation and a CRL of the wrong CA keep their own codes; the rest means "not trusted".
    if (err instanceof RevokedDeviceError || err instanceof InvalidCrlError || !(err instanceof AerieError)) throw err
    throw new UntrustedPeerError(`the owner certificate of folder "${record.folder}"'s membership record is not trusted: ${err.message}`, { cause: err })
  }
  if (signer.deviceId !== record.owner && signer.role !== 'server') {
    throw new ProtocolError(`the membership record of folder "${record.folder}" names owner ${record.owner} but carries the certificate of ${signer.deviceId}; it was altered or forged`)
  }
  let valid = false
  try {
    const key = createPublicKey({ key: Buffer.from(signer.spkiDer), format: 'der', type: 'spki' })
    valid = verify('sha256', canonicalBytes(record), { key, ...PSS }, Buffer.from(checked.signature, 'base64'))
  } catch {
    valid = false
  }
  if (!valid) {
    throw new ProtocolError(`the membership record of folder "${record.folder}" (version ${record.version}) is not signed by the key of the certificate it carries; it was altered or forged`)
  }
  return { signed: checked, signer }
}

/** A device's role: its own entry, else its user's; undefined when it is not a member. */
export function roleOf (record: MembershipRecord, who: string | MemberIdentity): FolderRole | undefined {
  const { deviceId, user } = typeof who === 'string' ? { deviceId: who, user: undefined } : who
  return record.members.find(member => member.deviceId === deviceId)?.role ??
    (user === undefined ? undefined : record.users?.find(u => u.user === user)?.role)
}

export function canWrite (record: MembershipRecord, who: string | MemberIdentity): boolean {
  const role = roleOf(record, who)
  return role === 'owner' || role === 'editor'
}

/** The bytes the owner signs: a fixed key order, so every device computes the same ones. */
export function canonicalBytes (record: MembershipRecord): Buffer {
  const { folder, label, version, owner, issuedAt } = record
  const members = record.members.map(({ deviceId, role }) => ({ deviceId, role }))
  // A record without user members encodes as it did before they existed.
  const users = record.users === undefined || record.users.length === 0 ? {} : { users: record.users.map(({ user, role }) => ({ user, role })) }
  return Buffer.from(DOMAIN + JSON.stringify({ folder, label, version, owner, members, ...users, issuedAt }), 'utf8')
}

function signRecord (record: MembershipRecord, certificate: string, ownerKeyPem: string): SignedMembership {
  const key = ownerKey(ownerKeyPem)
  const identity = readDeviceCertificate(certificate)
  if (!createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(identity.spkiDer)) {
    throw new InvalidKeyError('the device key does not belong to the owner certificate; sign with the key this device was enrolled with')
  }
  const signature = sign('sha256', canonicalBytes(record), { key, ...PSS }).toString('base64')
  return { record, certificate, signature }
}

function ownerKey (ownerKeyPem: string): KeyObject {
  try {
    return createPrivateKey({ key: ownerKeyPem, format: 'pem' })
  } catch (err) {
    throw new InvalidKeyError('the device key is damaged or not a private key; restore it from a backup, or enroll this device again', { cause: err })
  }
}

function malformed (detail: string): ProtocolError {
  return new ProtocolError(`malformed folder membership record: ${detail}; the sending device may run an incompatible version of Aerie`)
}

function isObject (value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const own = Object.keys(value)
  return own.length === keys.length && keys.every(key => Object.hasOwn(value, key))
}

/** The schema check, for input from a peer: returns a fresh copy holding only the known fields. */
function checkShape (signed: unknown): SignedMembership {
  if (!isObject(signed, ['record', 'certificate', 'signature'])) throw malformed('expected exactly record, certificate and signature')
  const { record, certificate, signature } = signed
  if (typeof certificate !== 'string' || certificate.length === 0) throw malformed('certificate must be a PEM string')
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > MAX_SIGNATURE_BASE64 ||
    Buffer.from(signature, 'base64').toString('base64') !== signature) {
    throw malformed('signature must be canonical base64 of at most 1024 bytes')
  }
  const fields = ['folder', 'label', 'version', 'owner', 'members', 'issuedAt']
  if (!isObject(record, fields) && !isObject(record, [...fields, 'users'])) {
    throw malformed('the record must have exactly folder, label, version, owner, members, issuedAt and perhaps users')
  }
  const { folder, label, version, owner, members, issuedAt, users } = record
  if (!isValidName(folder, MAX_TEXT)) throw malformed(`folder must be 1 to ${MAX_TEXT} printable characters`)
  if (!isValidName(label, MAX_TEXT)) throw malformed(`label must be 1 to ${MAX_TEXT} printable characters`)
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw malformed('version must be a whole number from 1')
  if (typeof owner !== 'string' || !DEVICE_ID.test(owner)) throw malformed('owner must be a device id')
  if (typeof issuedAt !== 'string' || issuedAt.length > 32 || Number.isNaN(Date.parse(issuedAt)) || new Date(issuedAt).toISOString() !== issuedAt) {
    throw malformed('issuedAt must be an ISO 8601 UTC time')
  }
  if (!Array.isArray(members) || members.length === 0 || members.length > MAX_MEMBERS) throw malformed(`members must list 1 to ${MAX_MEMBERS} devices`)
  const copy: FolderMember[] = []
  for (const [i, member] of members.entries()) {
    if (!isObject(member, ['deviceId', 'role'])) throw malformed(`members[${i}] must have exactly deviceId and role`)
    const { deviceId, role } = member
    if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)) throw malformed(`members[${i}].deviceId must be a device id`)
    if (typeof role !== 'string' || !ROLES.includes(role)) throw malformed(`members[${i}].role must be owner, editor or viewer`)
    const previous = copy[i - 1]?.deviceId
    if (previous === deviceId) throw malformed(`device ${deviceId} is listed twice`)
    if (previous !== undefined && compare(previous, deviceId) > 0) throw malformed('members must be sorted by device id')
    copy.push({ deviceId, role: role as FolderRole })
  }
  const owners = copy.filter(member => member.role === 'owner')
  if (owners.length !== 1 || owners[0]!.deviceId !== owner) throw malformed('exactly one member, the owner, must have the owner role')
  const userCopy: FolderUser[] = []
  if (users !== undefined) {
    if (!Array.isArray(users) || users.length === 0 || users.length > MAX_MEMBERS) throw malformed(`users must list 1 to ${MAX_MEMBERS} users when present`)
    for (const [i, entry] of users.entries()) {
      if (!isObject(entry, ['user', 'role'])) throw malformed(`users[${i}] must have exactly user and role`)
      const { user, role } = entry
      if (typeof user !== 'string' || !isValidEmail(user)) throw malformed(`users[${i}].user must be an e-mail address`)
      if (role !== 'editor' && role !== 'viewer') throw malformed(`users[${i}].role must be editor or viewer`)
      const previous = userCopy[i - 1]?.user
      if (previous !== undefined && compare(previous, user) >= 0) throw malformed('users must be sorted by e-mail, each once')
      userCopy.push({ user, role })
    }
  }
  return { record: { folder, label, version, owner, members: copy, ...(userCopy.length > 0 ? { users: userCopy } : {}), issuedAt }, certificate, signature }
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
