import { constants, sign } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  InvalidInputError, InvalidKeyError, ProtocolError, RevokedDeviceError, UntrustedPeerError
} from '../../src/errors.ts'
import { createCrl, parseCrl } from '../../src/pki/index.ts'
import { canWrite, changeMember, createMembership, openMembershipStore, roleOf, verifyMembership } from '../../src/sync/index.ts'
import { canonicalBytes, MAX_MEMBERS } from '../../src/sync/membership.ts'
import { createOrg, enrollDevice, type Device, type Org } from '../pki/fixtures.ts'
import type { Crl } from '../../src/pki/index.ts'
import type { FolderMember, MembershipRecord, SignedMembership } from '../../src/sync/index.ts'

describe('folder membership records', () => {
  let org: Org
  let otherOrg: Org
  let owner: Device
  let alice: Device
  let bob: Device
  /** The owner's key, enrolled in another organisation. */
  let ownerElsewhere: Device
  let v1: SignedMembership
  let v2: SignedMembership
  let v3: SignedMembership
  let dir: string

  beforeAll(async () => {
    [org, otherOrg] = await Promise.all([createOrg(), createOrg('Other Org')])
    owner = enrollDevice(org, { deviceName: 'owner laptop' })
    alice = enrollDevice(org, { deviceName: 'alice desktop', user: 'alice@example.org' })
    bob = enrollDevice(org, { deviceName: 'bob phone', user: 'bob@example.org' })
    ownerElsewhere = enrollDevice(otherOrg, { privateKeyPem: owner.privateKeyPem })
    v1 = ownerCreates('photos', 'Photos')
    v2 = changeMember(v1, { deviceId: alice.deviceId, role: 'editor' }, { ownerKeyPem: owner.privateKeyPem })
    v3 = changeMember(v2, { deviceId: bob.deviceId, role: 'viewer' }, { ownerKeyPem: owner.privateKeyPem })
  })

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'aerie-membership-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  function ownerCreates (folder: string, label = folder): SignedMembership {
    return createMembership({ folder, label, ownerKeyPem: owner.privateKeyPem, ownerCertificate: owner.certPem })
  }

  const verifyOn = (signed: unknown, options: { pinnedOwner?: string, crl?: Crl, now?: Date } = {}) =>
    verifyMembership(signed, { caCertificate: org.certPem, ...options })

  /** Signs any record with any device's key, as a forger (or a buggy owner) could. */
  function signAs (device: Device, record: MembershipRecord): SignedMembership {
    const signature = sign('sha256', canonicalBytes(record), { key: device.privateKeyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    return { record, certificate: device.certPem, signature: signature.toString('base64') }
  }

  const wire = (signed: SignedMembership): SignedMembership => JSON.parse(JSON.stringify(signed)) as SignedMembership

  it('is made by the owner and verifies on another device of the organisation', () => {
    const record = verifyOn(wire(v1), { pinnedOwner: owner.deviceId })
    expect(record).toMatchObject({ folder: 'photos', label: 'Photos', version: 1, owner: owner.deviceId })
    expect(record.members).toEqual([{ deviceId: owner.deviceId, role: 'owner' }])
    expect(new Date(record.issuedAt).getTime()).toBeLessThanOrEqual(Date.now())
  })

  it('gives a shared device the role it was shared with, one version per change', () => {
    const record = verifyOn(wire(v3), { pinnedOwner: owner.deviceId })
    expect(record.version).toBe(3)
    expect(record.members.map(m => m.deviceId)).toEqual([owner.deviceId, alice.deviceId, bob.deviceId].sort())
    expect([roleOf(record, owner.deviceId), roleOf(record, alice.deviceId), roleOf(record, bob.deviceId)]).toEqual(['owner', 'editor', 'viewer'])
    expect([canWrite(record, owner.deviceId), canWrite(record, alice.deviceId), canWrite(record, bob.deviceId)]).toEqual([true, true, false])
    expect(roleOf(record, 'aaaaaaaaaaaaaaaa')).toBeUndefined()

    const ownerKey = { ownerKeyPem: owner.privateKeyPem }
    const demoted = changeMember(v3, { deviceId: alice.deviceId, role: 'viewer' }, ownerKey)
    expect(roleOf(verifyOn(demoted), alice.deviceId)).toBe('viewer')
    const removed = changeMember(demoted, { deviceId: bob.deviceId, remove: true }, ownerKey)
    expect(verifyOn(removed)).toMatchObject({ version: 5 })
    expect(roleOf(removed.record, bob.deviceId)).toBeUndefined()
    // Repeating a change is not a new version.
    expect(changeMember(v3, { deviceId: bob.deviceId, role: 'viewer' }, ownerKey)).toBe(v3)
    expect(changeMember(removed, { deviceId: bob.deviceId, remove: true }, ownerKey)).toBe(removed)
  })

  it('refuses to change or remove the owner, to make another owner, or to sign with another key', () => {
    const ownerKey = { ownerKeyPem: owner.privateKeyPem }
    expect(() => changeMember(v3, { deviceId: owner.deviceId, role: 'viewer' }, ownerKey)).toThrow(InvalidInputError)
    expect(() => changeMember(v3, { deviceId: owner.deviceId, remove: true }, ownerKey)).toThrow(InvalidInputError)
    expect(() => changeMember(v3, { deviceId: alice.deviceId, role: 'owner' as 'editor' }, ownerKey)).toThrow(InvalidInputError)
    expect(() => changeMember(v3, { deviceId: 'Not-A-Device', role: 'editor' }, ownerKey)).toThrow(InvalidInputError)
    expect(() => changeMember(v3, { deviceId: alice.deviceId, role: 'viewer' }, { ownerKeyPem: alice.privateKeyPem })).toThrow(InvalidKeyError)
    expect(() => changeMember(v3, { deviceId: alice.deviceId, role: 'viewer' }, { ownerKeyPem: alice.privateKeyPem, ownerCertificate: alice.certPem }))
      .toThrow(InvalidInputError)
    expect(() => createMembership({ folder: ' ', label: 'x', ownerKeyPem: owner.privateKeyPem, ownerCertificate: owner.certPem })).toThrow(InvalidInputError)
    expect(() => createMembership({ folder: 'x', label: 'x', ownerKeyPem: bob.privateKeyPem, ownerCertificate: owner.certPem })).toThrow(InvalidKeyError)
  })

  it('refuses a record by a valid device of the organisation that claims a pinned folder', () => {
    // Bob makes his own "photos" and gives himself and Alice access: genuine, but not the owner's.
    const takeover = createMembership({ folder: 'photos', label: 'Photos', ownerKeyPem: bob.privateKeyPem, ownerCertificate: bob.certPem })
    expect(verifyOn(takeover).owner).toBe(bob.deviceId)
    expect(() => verifyOn(takeover, { pinnedOwner: owner.deviceId })).toThrow(UntrustedPeerError)
    // Naming the owner while signing himself.
    const posing = signAs(bob, { ...v3.record, version: 4, members: [...v3.record.members] })
    expect(() => verifyOn(posing, { pinnedOwner: owner.deviceId })).toThrow(ProtocolError)
    expect(() => verifyOn({ ...posing, certificate: owner.certPem }, { pinnedOwner: owner.deviceId })).toThrow(ProtocolError)
  })

  it("lets the organisation's team server, and no other device, change the members of a folder it does not own", () => {
    const server = enrollDevice(org, { deviceName: 'team-server', user: 'server@example.org', role: 'server' })
    const byServer = changeMember(v3, { deviceId: bob.deviceId, role: 'editor' }, { ownerKeyPem: server.privateKeyPem, ownerCertificate: server.certPem })
    const record = verifyOn(byServer, { pinnedOwner: owner.deviceId })
    expect(record.owner).toBe(owner.deviceId)
    expect(roleOf(record, bob.deviceId)).toBe('editor')
    expect(() => changeMember(byServer, { deviceId: owner.deviceId, remove: true }, { ownerKeyPem: server.privateKeyPem, ownerCertificate: server.certPem })).toThrow(InvalidInputError)
    // The owner takes over again from the server's version.
    const byOwner = changeMember(byServer, { deviceId: bob.deviceId, remove: true }, { ownerKeyPem: owner.privateKeyPem, ownerCertificate: owner.certPem })
    expect(verifyOn(byOwner, { pinnedOwner: owner.deviceId }).version).toBe(byServer.record.version + 1)
    // An ordinary device's certificate does not carry that right, nor does a server of another organisation.
    expect(() => verifyOn(signAs(alice, { ...v3.record, version: 4 }), { pinnedOwner: owner.deviceId })).toThrow(ProtocolError)
    const foreignServer = enrollDevice(otherOrg, { role: 'server' })
    expect(() => verifyOn(changeMember(v3, { deviceId: bob.deviceId, role: 'editor' }, { ownerKeyPem: foreignServer.privateKeyPem, ownerCertificate: foreignServer.certPem }))).toThrow(UntrustedPeerError)
  })

  it('shares a folder with every device of a user, a device entry taking precedence, and the user list is signed too', () => {
    const ownerKey = { ownerKeyPem: owner.privateKeyPem }
    const v4 = changeMember(v3, { user: 'carol@example.org', role: 'editor' }, ownerKey)
    const record = verifyOn(wire(v4), { pinnedOwner: owner.deviceId })
    expect(record.users).toEqual([{ user: 'carol@example.org', role: 'editor' }])
    expect(roleOf(record, { deviceId: 'carolphone000000', user: 'carol@example.org' })).toBe('editor')
    expect(roleOf(record, { deviceId: 'carolphone000000', user: 'dave@example.org' })).toBeUndefined()
    expect(roleOf(record, 'carolphone000000')).toBeUndefined() // without knowing its user, a device is not in
    expect(canWrite(record, { deviceId: 'carolphone000000', user: 'carol@example.org' })).toBe(true)
    // Bob's own entry (viewer) wins over a grant to his user.
    const v5 = changeMember(v4, { user: 'bob@example.org', role: 'editor' }, ownerKey)
    expect(roleOf(v5.record, { deviceId: bob.deviceId, user: 'bob@example.org' })).toBe('viewer')
    expect(v5.record.users?.map(u => u.user)).toEqual(['bob@example.org', 'carol@example.org'])
    expect(changeMember(v5, { user: 'bob@example.org', role: 'editor' }, ownerKey)).toBe(v5)
    const v6 = changeMember(v5, { user: 'carol@example.org', remove: true }, ownerKey)
    expect(v6.record.users).toEqual([{ user: 'bob@example.org', role: 'editor' }])
    expect(changeMember(v6, { user: 'bob@example.org', remove: true }, ownerKey).record.users).toBeUndefined()
    expect(() => changeMember(v6, { user: 'not an email', role: 'editor' }, ownerKey)).toThrow(InvalidInputError)
    // Altered, unsorted or repeated users are refused.
    expect(() => verifyOn({ ...v4, record: { ...v4.record, users: [{ user: 'carol@example.org', role: 'viewer' }] } })).toThrow(ProtocolError)
    const twice = signAs(owner, { ...v4.record, version: 9, users: [{ user: 'a@example.org', role: 'editor' }, { user: 'a@example.org', role: 'viewer' }] })
    expect(() => verifyOn(twice)).toThrow(ProtocolError)
    const owners = signAs(owner, { ...v4.record, version: 9, users: [{ user: 'a@example.org', role: 'owner' as 'editor' }] })
    expect(() => verifyOn(owners)).toThrow(ProtocolError)
    // A record with no users encodes as before users existed.
    expect(canonicalBytes(v3.record).toString()).not.toContain('users')
  })

  it('refuses a record altered after signing', () => {
    const altered: Array<(signed: SignedMembership) => void> = [
      s => { s.record.owner = alice.deviceId },
      s => { s.record.members = s.record.members.map(m => m.deviceId === bob.deviceId ? { ...m, role: 'editor' } : m) },
      s => { s.record.members = s.record.members.filter(m => m.deviceId !== alice.deviceId) },
      s => { s.record.version = 99 },
      s => { s.record.label = 'Holiday' },
      s => { s.record.issuedAt = new Date(0).toISOString() },
      s => { s.signature = v2.signature },
      s => { s.certificate = alice.certPem }
    ]
    for (const alter of altered) {
      const copy = wire(v3)
      alter(copy)
      expect(() => verifyOn(copy), alter.toString()).toThrow(ProtocolError)
    }
    // Changing the owner and the certificate together still leaves the owner's signature.
    const copy = wire(v3)
    copy.record.owner = alice.deviceId
    copy.record.members = copy.record.members.map(m => ({ ...m, role: m.deviceId === alice.deviceId ? 'owner' : 'viewer' }))
    copy.certificate = alice.certPem
    expect(() => verifyOn(copy)).toThrow(ProtocolError)
  })

  it('refuses an owner certificate from another CA, an expired one, and a revoked owner', () => {
    const foreign = createMembership({ folder: 'photos', label: 'Photos', ownerKeyPem: owner.privateKeyPem, ownerCertificate: ownerElsewhere.certPem })
    expect(() => verifyOn(foreign, { pinnedOwner: owner.deviceId })).toThrow(UntrustedPeerError)
    expect(() => verifyOn(v3, { now: new Date('2200-01-01T00:00:00Z') })).toThrow(UntrustedPeerError)
    expect(() => verifyOn({ ...v3, certificate: 'not a certificate' })).toThrow(UntrustedPeerError)

    const crlRevoking = (...devices: Device[]) => parseCrl(createCrl({
      caCertPem: org.certPem, caKey: org.caKey, number: 1, revoked: devices.map(d => ({ serial: d.serial, revokedAt: new Date() }))
    }), org.certPem)
    expect(() => verifyOn(v3, { crl: crlRevoking(owner) })).toThrow(RevokedDeviceError)
    // Revoking a member does not invalidate the record; it is the owner's signature that counts.
    expect(verifyOn(v3, { crl: crlRevoking(bob) }).version).toBe(3)
  })

  describe('store', () => {
    const open = (crl?: () => Crl | undefined) => openMembershipStore(dir, { caCertificate: org.certPem, ...(crl === undefined ? {} : { crl }) })

    it('keeps the newest version, ignores older ones and survives a restart', async () => {
      const store = await open()
      expect(store.get('photos')).toBeUndefined()
      await store.put(v1)
      expect(await store.offer(wire(v3))).toBe('adopted')
      expect(await store.offer(wire(v2))).toBe('older')
      expect(await store.offer(wire(v3))).toBe('same')
      expect(store.get('photos')?.record.version).toBe(3)
      await expect(store.put(v1)).rejects.toThrow(InvalidInputError)

      const reopened = await open()
      expect(reopened.problems).toEqual([])
      expect(reopened.get('photos')).toEqual(wire(v3))
      expect(reopened.list().map(s => s.record.folder)).toEqual(['photos'])
    })

    it('refuses two different records with one version', async () => {
      const store = await open()
      await store.put(v3)
      const fork = changeMember(v2, { deviceId: bob.deviceId, role: 'editor' }, { ownerKeyPem: owner.privateKeyPem })
      expect(fork.record.version).toBe(3)
      await expect(store.offer(fork)).rejects.toThrow(ProtocolError)
      expect(store.get('photos')).toEqual(v3)
    })

    it('pins the owner of a folder it holds, whatever version a takeover claims', async () => {
      const store = await open()
      await store.put(v1)
      const takeover = signAs(bob, { ...v1.record, version: 50, owner: bob.deviceId, members: [{ deviceId: bob.deviceId, role: 'owner' }] })
      expect(verifyOn(takeover).owner).toBe(bob.deviceId)
      await expect(store.offer(takeover)).rejects.toThrow(UntrustedPeerError)
      await expect(store.offer(takeover, bob.deviceId)).rejects.toThrow(UntrustedPeerError)
      expect(store.get('photos')).toEqual(v1)
      // A folder not held yet is pinned by the caller.
      const fresh = createMembership({ folder: 'music', label: 'Music', ownerKeyPem: bob.privateKeyPem, ownerCertificate: bob.certPem })
      await expect(store.offer(fresh, owner.deviceId)).rejects.toThrow(UntrustedPeerError)
      expect(await store.offer(fresh)).toBe('adopted')
    })

    it('ends with the newest record on disk when offers race', async () => {
      const store = await open()
      const v4 = changeMember(v3, { deviceId: alice.deviceId, remove: true }, { ownerKeyPem: owner.privateKeyPem })
      const results = await Promise.all([v1, v4, v2, v3].map(s => store.offer(wire(s))))
      expect(results).toEqual(['adopted', 'adopted', 'older', 'older'])
      expect((await open()).get('photos')?.record.version).toBe(4)
    })

    it('names files safely for any folder id and reports a damaged file without losing the others', async () => {
      const odd = ownerCreates('../../etc/passwd Ünïcode/…', 'Odd')
      const store = await open()
      await store.put(v3)
      await store.put(odd)
      const files = (await readdir(dir)).sort()
      expect(files).toHaveLength(2)
      for (const file of files) expect(file).toMatch(/^[0-9a-f]{64}\.json$/)

      const damaged = join(dir, files[0]!)
      await writeFile(damaged, '{"record": ')
      const reopened = await open()
      expect(reopened.problems).toHaveLength(1)
      expect(reopened.problems[0]!.file).toBe(damaged)
      expect(reopened.problems[0]!.message).toContain(damaged)
      expect(reopened.list()).toHaveLength(1)
      // The damaged folder is recovered by the next record a peer sends.
      const lost = [v3, odd].find(s => reopened.get(s.record.folder) === undefined)!
      expect(await reopened.offer(wire(lost))).toBe('adopted')
      expect((await open()).problems).toEqual([])
    })

    it('applies a revocation learnt after the record was adopted', async () => {
      const known: { crl?: Crl } = {}
      const store = await open(() => known.crl)
      await store.put(v2)
      known.crl = parseCrl(createCrl({ caCertPem: org.certPem, caKey: org.caKey, number: 2, revoked: [{ serial: owner.serial, revokedAt: new Date() }] }), org.certPem)
      await expect(store.offer(v3)).rejects.toThrow(RevokedDeviceError)
      const reopened = await open(() => known.crl)
      expect(reopened.get('photos')).toBeUndefined()
      expect(reopened.problems[0]!.message).toMatch(/revoked/)
    })
  })

  describe('malformed input', () => {
    // Whatever a peer sends, verification fails only with the typed errors callers handle.
    const typed = [ProtocolError, UntrustedPeerError]

    function expectRefused (input: unknown, label: string): void {
      let error: unknown
      try {
        verifyOn(input)
      } catch (err) {
        error = err
      }
      expect(typed.some(type => error instanceof type), `${label}: ${String(error)}`).toBe(true)
    }

    // Distinct, well-formed device ids: `i` in base 32, spelt with the device id alphabet.
    const ids = (count: number) => Array.from({ length: count }, (_, i) => [...i.toString(32).padStart(16, '0')]
      .map(digit => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(digit, 32)]).join('')).sort()

    it('refuses wrong types, missing or extra fields, bad members and huge lists', () => {
      const record = v3.record
      const members = record.members
      const cases: Record<string, unknown> = {
        null: null,
        string: JSON.stringify(v3),
        array: [v3],
        'no signature': { record, certificate: v3.certificate },
        'extra field': { ...v3, note: 'hi' },
        'extra record field': { ...v3, record: { ...record, admin: true } },
        'proto key': JSON.parse(JSON.stringify(v3).replace('"label"', '"__proto__":{"x":1},"label"')),
        'version as string': { ...v3, record: { ...record, version: '3' } },
        'version 0': { ...v3, record: { ...record, version: 0 } },
        'version fraction': { ...v3, record: { ...record, version: 2.5 } },
        'version huge': { ...v3, record: { ...record, version: 2 ** 60 } },
        'empty folder': { ...v3, record: { ...record, folder: '' } },
        'long label': { ...v3, record: { ...record, label: 'x'.repeat(257) } },
        'label with control': { ...v3, record: { ...record, label: 'a\u0000b' } },
        'owner not an id': { ...v3, record: { ...record, owner: 'OWNER' } },
        'bad time': { ...v3, record: { ...record, issuedAt: 'yesterday' } },
        'members object': { ...v3, record: { ...record, members: { 0: members[0] } } },
        'no members': { ...v3, record: { ...record, members: [] } },
        'duplicate member': { ...v3, record: { ...record, members: [...members, members[members.length - 1]] } },
        'unsorted members': { ...v3, record: { ...record, members: [...members].reverse() } },
        'no owner member': { ...v3, record: { ...record, members: members.filter(m => m.role !== 'owner') } },
        'two owners': { ...v3, record: { ...record, members: members.map(m => ({ ...m, role: 'owner' })) } },
        'unknown role': { ...v3, record: { ...record, members: members.map(m => m.role === 'viewer' ? { ...m, role: 'admin' } : m) } },
        'too many members': { ...v3, record: { ...record, members: ids(MAX_MEMBERS + 1).map(deviceId => ({ deviceId, role: 'viewer' })) } },
        'signature not base64': { ...v3, signature: '%%%' },
        'signature huge': { ...v3, signature: 'A'.repeat(4000) },
        'certificate number': { ...v3, certificate: 42 }
      }
      for (const [label, input] of Object.entries(cases)) expectRefused(input, label)
    })

    it('refuses a malformed record even when the owner signed it', () => {
      const { members } = v3.record
      const bad: Record<string, FolderMember[]> = {
        'no owner member': members.filter(m => m.role !== 'owner'),
        'two owners': members.map(m => ({ ...m, role: 'owner' as const })),
        'duplicate member': [...members, members[members.length - 1]!],
        'unsorted members': [...members].reverse()
      }
      for (const [label, list] of Object.entries(bad)) {
        const signed = signAs(owner, { ...v3.record, version: 4, members: list })
        expect(() => verifyOn(signed), label).toThrow(ProtocolError)
      }
      expect(verifyOn(signAs(owner, { ...v3.record, version: 4 })).version).toBe(4)
    })

    it('checks a full list of members quickly and refuses it unsigned', () => {
      const many = [...ids(MAX_MEMBERS - 1), owner.deviceId].sort()
      const members = many.map(deviceId => ({ deviceId, role: deviceId === owner.deviceId ? 'owner' : 'viewer' }))
      const started = performance.now()
      expect(() => verifyOn({ ...v3, record: { ...v3.record, members } })).toThrow(ProtocolError)
      expect(performance.now() - started).toBeLessThan(1000)
    })

    it('refuses any field replaced by random JSON', () => {
      const paths: Array<(s: SignedMembership, value: unknown) => void> = [
        (s, v) => { (s as unknown as Record<string, unknown>).record = v },
        (s, v) => { (s as unknown as Record<string, unknown>).certificate = v },
        (s, v) => { (s as unknown as Record<string, unknown>).signature = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).folder = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).label = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).version = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).owner = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).members = v },
        (s, v) => { (s.record as unknown as Record<string, unknown>).issuedAt = v },
        (s, v) => { (s.record.members as unknown[])[1] = v },
        (s, v) => { (s.record.members[0] as unknown as Record<string, unknown>).role = v }
      ]
      fc.assert(fc.property(fc.nat(paths.length - 1), fc.jsonValue(), (path, value) => {
        const copy = wire(v3)
        paths[path]!(copy, value)
        if (JSON.stringify(copy) === JSON.stringify(v3)) return // replaced by what was there
        expectRefused(copy, `path ${path} = ${JSON.stringify(value)}`)
      }), { numRuns: 300 })
    })
  })
})
