import { randomBytes } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNK_NOT_FOUND, CHUNK_OK, CHUNK_REFUSED, chunkResponse, verifyMembership } from '@aerie/core'
import { Lab, waitFor } from './support/agents.ts'
import { RoguePeer, sha256 } from './support/rogue-peer.ts'
import { describeTree } from './support/trees.ts'
import type { Device, Status } from './support/agents.ts'
import type { FileRecord, FolderMember, SignedMembership } from '@aerie/core'

interface FolderView { id: string, members: FolderMember[], pullProblems: Array<{ path: string, message: string }>, nextRetryAt?: string }
interface SyncStatus extends Status { folders: FolderView[], offers: Array<{ folder: string, role: string }> }
const statusOf = async (device: Device): Promise<SyncStatus> => await device.status() as SyncStatus

// Devices that are genuinely enrolled but run hostile code (test/support/rogue-peer.ts) talk
// to a real agent. Whatever they send, the agent's folder holds only what honest members
// wrote, nothing lands outside it, the agent says in its log what it refused, and it goes on
// syncing with its honest peer.
describe('an agent talking to bad peers', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  /** An editor of the folder. */
  let mallory: RoguePeer
  /** A viewer of the folder. */
  let victor: RoguePeer
  /** Enrolled in the organisation, but the folder is not shared with it. */
  let eve: RoguePeer
  let aliceId: string
  let a: string
  let b: string
  /** The directory holding every device's home and folder: where an escape would land. */
  let root: string
  // A name no honest file has, to look for after each attack.
  const EVIL = `evil-${randomBytes(4).toString('hex')}`
  const readme = '# team readme\n'
  /** What each rogue answers chunk requests with, by hash (hex); honest bytes unless a test says otherwise. */
  const serves = new Map<string, Uint8Array>()

  const serveFrom = (rogue: RoguePeer): void => {
    rogue.answerChunk = (asked) => {
      const bytes = serves.get(asked.hash)
      return bytes === undefined ? chunkResponse(CHUNK_NOT_FOUND) : chunkResponse(CHUNK_OK, bytes)
    }
  }
  const serveHonestly = (content: Uint8Array): void => { serves.set(Buffer.from(sha256(content)).toString('hex'), content) }

  /** waitFor, with the agents' latest log lines in the failure. */
  const waitLogging = async (check: () => Promise<boolean> | boolean, what: string, timeoutMs?: number): Promise<void> => {
    await waitFor(check, what, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}\nalice: ${alice.log.slice(-3000)}\nbob: ${bob.log.slice(-1500)}`)
    })
  }
  const countLogged = (pattern: RegExp): number => alice.log.split('\n').filter(line => pattern.test(line)).length
  /** Waits until alice's log holds `count` lines matching `pattern` (the agent's own account of what it refused). */
  const logged = async (pattern: RegExp, count = 1, timeoutMs = 15_000): Promise<void> => {
    await waitLogging(() => countLogged(pattern) >= count, `alice to log ${String(pattern)} (${count}x)`, timeoutMs)
  }

  /** Every path outside the synced folders (under the lab's directory, or in the system temp dir) that carries the evil name. */
  const escapes = async (): Promise<string[]> => {
    const found = (await readdir(tmpdir())).filter(name => name.includes(EVIL)).map(name => join(tmpdir(), name))
    // By hand: readdir's `recursive` follows symlinks, and a synced link may point back up.
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name)
        if (path === a || path === b) continue
        if (entry.name.includes(EVIL)) found.push(path)
        if (entry.isDirectory()) await walk(path)
      }
    }
    await walk(root)
    return found
  }

  /** An honest edit on bob reaches alice: she still syncs, and has pulled since the attack. */
  const honestEditReachesAlice = async (tag: string): Promise<string> => {
    const name = `from-bob-${tag}.txt`
    await writeFile(join(b, name), `bob's ${tag}\n`)
    await bob.ok('folder', 'rescan', 'team')
    await waitLogging(async () => await readFile(join(a, name), 'utf8').then(text => text === `bob's ${tag}\n`, () => false),
      `bob's ${tag} edit to reach alice`, 30_000)
    return name
  }

  /** Alice's folder as before the attack, give or take the honest files bob added since. */
  const unchangedSince = async (before: Record<string, string>, ...honest: string[]): Promise<void> => {
    const now = await describeTree(a)
    for (const name of honest) delete now[name]
    expect(now).toEqual(before)
  }

  const aliceRecord = (rogue: RoguePeer, path: string): FileRecord => {
    const record = rogue.recordsFrom(aliceId, 'team').get(path)
    if (record === undefined) throw new Error(`alice has not announced ${path} to ${rogue.identity.deviceName}`)
    return record
  }

  /** A member rogue connects, and is introduced both ways: it holds alice's membership record and her index. */
  const joinAsMember = async (rogue: RoguePeer): Promise<SignedMembership> => {
    await rogue.connect(alice)
    await waitFor(() => rogue.membershipFrom(aliceId, 'team') !== undefined, `alice to introduce the folder to ${rogue.identity.deviceName}`)
    const membership = rogue.membershipFrom(aliceId, 'team')!
    expect(await rogue.sendIndex(aliceId, rogue.folderMessage('team', membership))).toBe('closed')
    await waitFor(() => rogue.recordsFrom(aliceId, 'team').has('docs/readme.md'), `alice to announce her files to ${rogue.identity.deviceName}`)
    return membership
  }

  /**
   * Mallory announces a file and answers the requests for its one chunk with `served`: alice
   * must report the file as not synced, never write it, and go on syncing with bob.
   */
  const expectPullRefused = async (path: string, content: Uint8Array, served: Uint8Array): Promise<void> => {
    const before = await describeTree(a)
    serves.set(Buffer.from(sha256(content)).toString('hex'), served)
    const record = mallory.record(path, content)
    expect(await mallory.sendIndex(aliceId, mallory.indexMessage('team', [record]))).toBe('closed')
    await waitLogging(async () => (await statusOf(alice)).folders[0]!.pullProblems.some(p => p.path === path), `alice to report ${path} as not synced`, 15_000)
    // ...and say when she tries it again.
    await waitLogging(async () => (await statusOf(alice)).folders[0]!.nextRetryAt !== undefined, 'alice to say when she retries', 15_000)
    expect(await readdir(a)).not.toContain(path)
    expect(await escapes()).toEqual([])
    const honest = await honestEditReachesAlice(`after-${path}`)
    await unchangedSince(before, honest)
    // Taken back, so alice stops retrying it.
    await mallory.sendIndex(aliceId, mallory.indexMessage('team', [mallory.deletion(record)]))
  }

  beforeAll(async () => {
    alice = await lab.caHolder('alice')
    aliceId = (await statusOf(alice)).deviceId
    root = dirname(alice.home)
    const [bobHome, malloryHome, victorHome, eveHome] = await Promise.all(['bob', 'mallory', 'victor', 'eve'].map(async name => await lab.enrolled(alice, name)))
    bob = bobHome!
    const bobStarted = bob.start()
    ;[mallory, victor, eve] = await Promise.all([RoguePeer.start(malloryHome!), RoguePeer.start(victorHome!), RoguePeer.start(eveHome!)])
    await bobStarted
    for (const rogue of [mallory, victor, eve]) serveFrom(rogue)

    a = join(root, 'alice-team')
    b = join(root, 'bob-team')
    await mkdir(join(a, 'docs'), { recursive: true })
    await writeFile(join(a, 'docs', 'readme.md'), readme)
    await writeFile(join(a, 'todo.txt'), 'ship it\n')
    await mkdir(b)
    await alice.ok('folder', 'add', a, '--id', 'team')
    const bobId = (await statusOf(bob)).deviceId
    await alice.ok('folder', 'share', 'team', bobId, '--role', 'editor')
    await alice.ok('folder', 'share', 'team', mallory.deviceId, '--role', 'editor')
    await alice.ok('folder', 'share', 'team', victor.deviceId, '--role', 'viewer')
    await waitFor(async () => (await statusOf(bob)).offers.some(o => o.folder === 'team'), 'the offer to reach bob')
    await bob.ok('folder', 'add', b, '--id', 'team')
    await waitFor(async () => await readFile(join(b, 'docs', 'readme.md'), 'utf8').then(text => text === readme, () => false), 'bob to get the folder')
    await Promise.all([joinAsMember(mallory), joinAsMember(victor), eve.connect(alice)])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([mallory, victor, eve].map(async rogue => { await rogue?.stop() }))
    await lab.stopAll()
  })

  it('refuses records whose paths would leave the folder, and writes nothing anywhere', async () => {
    const before = await describeTree(a)
    const paths = [
      `../${EVIL}`,
      `../../${EVIL}`,
      `a/../../${EVIL}`,
      `a\\..\\..\\${EVIL}`,
      `${root}/${EVIL}`,
      `docs\0/../../${EVIL}`,
      `.. /${EVIL}`,
      `C:${EVIL}`,
      `e\u0301-${EVIL}` // 'é' decomposed: not NFC
    ]
    const refused = new RegExp(`index exchange with ${mallory.deviceId} stopped: device ${mallory.deviceId} sent a record for .* that cannot be used`)
    for (const path of paths) {
      const content = new TextEncoder().encode(`written through ${JSON.stringify(path)}\n`)
      // Served honestly: had the record been taken, alice could have built the file.
      serveHonestly(content)
      const seen = countLogged(refused)
      const end = await mallory.sendIndex(aliceId, mallory.indexMessage('team', [mallory.record(path, content)]))
      await logged(refused, seen + 1, 10_000).catch((err: Error) => { throw new Error(`path ${JSON.stringify(path)} was not refused: ${err.message}`) })
      expect(end, `the stream that carried ${JSON.stringify(path)}`).not.toBe('closed')
    }
    const honest = await honestEditReachesAlice('after-paths')
    expect(await escapes()).toEqual([])
    await unchangedSince(before, honest)
    expect(alice.agent?.exitCode).toBe(null)
  })

  it('does not follow a synced symlink out of the folder', async () => {
    // A link is synced as it is; what must not happen is a later file written through it.
    const link = mallory.symlink('exit', '..')
    await mallory.sendIndex(aliceId, mallory.indexMessage('team', [link]))
    await waitLogging(async () => await lstat(join(a, 'exit')).then(s => s.isSymbolicLink(), () => false) ||
      (await statusOf(alice)).folders[0]!.pullProblems.some(p => p.path === 'exit'), 'alice to pull the link (or refuse it)')
    const content = new TextEncoder().encode('through the link\n')
    serveHonestly(content)
    const through = mallory.record(`exit/${EVIL}`, content)
    await mallory.sendIndex(aliceId, mallory.indexMessage('team', [through]))
    // Either outcome ends the wait; only one is right.
    await waitLogging(async () => (await escapes()).length > 0 ||
      (await statusOf(alice)).folders[0]!.pullProblems.some(p => p.path === `exit/${EVIL}`), 'alice to try the file behind the link')
    expect(await escapes()).toEqual([])
    // Mallory takes both back, so alice stops retrying and the next tests start from a clean folder.
    await mallory.sendIndex(aliceId, mallory.indexMessage('team', [mallory.deletion(link), mallory.deletion(through)]))
    await waitLogging(async () => await lstat(join(a, 'exit')).then(() => false, () => true), 'the link to be deleted')
  })

  it('cuts a stream that sends a frame over the 4 MiB limit, and goes on syncing', async () => {
    const before = await describeTree(a)
    const overLimit = /index exchange with .* stopped: the peer sent a message over the 4194304-byte limit/
    const channel = await mallory.openIndex(aliceId, 16 * 1024 * 1024)
    const huge = { type: 'index', folder: 'team', records: [], padding: 'x'.repeat(5 * 1024 * 1024) }
    channel.writeJson(huge).catch(() => {}) // alice may cut it before it is all written
    await logged(overLimit)
    await waitFor(() => channel.stream.status !== 'open', 'alice to cut the stream')
    expect(['reset', 'aborted', 'closed']).toContain(channel.stream.status)

    // Length prefixes that announce 128 MiB and 1 GiB, and then nothing: cut at once, not waited for.
    const bare = await mallory.openIndex(aliceId)
    bare.stream.send(varint(128 * 1024 * 1024 - 1))
    await logged(overLimit, 2)
    const stopped = new RegExp(`index exchange with ${mallory.deviceId} stopped`)
    const seen = countLogged(stopped)
    const longer = await mallory.openIndex(aliceId)
    longer.stream.send(varint(1024 * 1024 * 1024))
    await logged(stopped, seen + 1)
    await waitFor(() => bare.stream.status !== 'open' && longer.stream.status !== 'open', 'alice to cut both streams')

    expect(alice.agent?.exitCode).toBe(null)
    const honest = await honestEditReachesAlice('after-oversized')
    await unchangedSince(before, honest)
    // And the other way: alice's edits still reach bob.
    await writeFile(join(a, 'todo.txt'), 'ship it, then rest\n')
    await alice.ok('folder', 'rescan', 'team')
    await waitLogging(async () => await readFile(join(b, 'todo.txt'), 'utf8').then(text => text === 'ship it, then rest\n', () => false), 'alice\'s edit to reach bob', 30_000)
  })

  it('never puts a file together from chunks that do not match their hash', async () => {
    const content = randomBytes(100_000)
    const garbage = randomBytes(100_000) // the right size, not the right bytes
    await expectPullRefused('poisoned.bin', content, garbage)
    await logged(new RegExp(`device ${mallory.deviceId} sent a chunk of folder team whose hash does not match; it was discarded`))
    await logged(/folder team: could not sync poisoned\.bin/)
    // A temporary file may stay for the next attempt, but it never holds the bad bytes.
    for (const name of (await readdir(a)).filter(n => n.startsWith('.aerie-tmp-'))) {
      expect((await readFile(join(a, name))).indexOf(garbage.subarray(0, 64)), name).toBe(-1)
    }
  })

  it('takes neither records nor chunk requests from a device that is not a member', async () => {
    const before = await describeTree(a)
    const content = new TextEncoder().encode('eve was here\n')
    serveHonestly(content)
    const notShared = new RegExp(`index exchange with ${eve.deviceId} stopped: device ${eve.deviceId} sent records for folder "team", which it does not share`)
    expect(await eve.sendIndex(aliceId, eve.indexMessage('team', [eve.record('from-eve.txt', content)]))).not.toBe('closed')
    await logged(notShared)

    // Replaying the genuine membership record (a member leaked it) makes it no member either.
    const genuine = mallory.membershipFrom(aliceId, 'team')!
    const readmeRecord = aliceRecord(mallory, 'docs/readme.md')
    await eve.sendIndex(aliceId, eve.folderMessage('team', genuine), eve.indexMessage('team', [eve.record('docs/readme.md', content, readmeRecord.version)]))
    await logged(new RegExp(`folder team: device ${eve.deviceId} is not a member; nothing is exchanged with it`))
    await logged(notShared, 2)

    // The readme's one chunk: a member gets it, eve gets the refusal and no bytes.
    const request = { folder: 'team', hash: sha256(new TextEncoder().encode(readme)), size: Buffer.byteLength(readme) }
    const [forMallory] = await mallory.requestChunks(aliceId, [request])
    expect(forMallory?.status).toBe(CHUNK_OK)
    expect(Buffer.from(forMallory!.bytes).toString()).toBe(readme)
    const answers = await eve.requestChunks(aliceId, [request, { ...request, folder: 'no-such-folder' }])
    expect(answers.map(x => x.status)).toEqual([CHUNK_REFUSED, CHUNK_REFUSED])
    expect(answers.every(x => x.bytes.byteLength === 0)).toBe(true)

    const honest = await honestEditReachesAlice('after-eve')
    await unchangedSince(before, honest)
    expect(eve.messagesFrom(aliceId, undefined, 'team')).toEqual([])
    expect(eve.chunksAsked).toEqual([])
  })

  it('refuses a viewer\'s edits and deletions on receipt', async () => {
    const before = await describeTree(a)
    const edited = new TextEncoder().encode('the viewer rewrote this\n')
    serveHonestly(edited)
    const records = [
      victor.record('docs/readme.md', edited, aliceRecord(victor, 'docs/readme.md').version),
      victor.deletion(aliceRecord(victor, 'todo.txt'))
    ]
    expect(await victor.sendIndex(aliceId, victor.indexMessage('team', records))).toBe('closed')
    await logged(new RegExp(`refused 2 records of folder team from ${victor.deviceId}: it is a viewer of the folder`))
    const honest = await honestEditReachesAlice('after-viewer')
    await unchangedSince(before, honest)
    expect(await readFile(join(a, 'docs', 'readme.md'), 'utf8')).toBe(readme)
    expect(await readFile(join(b, 'docs', 'readme.md'), 'utf8')).toBe(readme)
    // Alice never even asked for the viewer's new content.
    expect(victor.chunksAsked.filter(c => c.hash === Buffer.from(sha256(edited)).toString('hex'))).toEqual([])
  })

  it('refuses forged membership records, and the forger still gets nothing', async () => {
    const before = await describeTree(a)
    const members = (await statusOf(alice)).folders[0]!.members
    const genuine = mallory.membershipFrom(aliceId, 'team')!
    const version = genuine.record.version + 100
    const issuedAt = new Date().toISOString()
    const withEve = [...genuine.record.members, { deviceId: eve.deviceId, role: 'editor' as const }].sort((x, y) => x.deviceId < y.deviceId ? -1 : 1)
    const aliceCertificate = await readFile(join(alice.home, 'device.crt'), 'utf8')
    const caCertificate = await readFile(join(alice.home, 'ca.crt'), 'utf8')

    // Eve claims to own the folder: a genuine signature, but not by the folder's owner.
    const claimsOwnership = eve.signMembership({ ...genuine.record, owner: eve.deviceId, members: [{ deviceId: eve.deviceId, role: 'owner' }], version, issuedAt })
    expect(verifyMembership(claimsOwnership, { caCertificate }).owner).toBe(eve.deviceId) // the forgery is well made
    const forgeries = [
      claimsOwnership,
      // Alice named as owner, eve added, signed by eve and carrying eve's certificate.
      eve.signMembership({ ...genuine.record, members: withEve, version, issuedAt }),
      // ...carrying alice's certificate.
      eve.signMembership({ ...genuine.record, members: withEve, version, issuedAt }, aliceCertificate),
      // Alice's genuine record, edited, with her signature kept.
      { ...genuine, record: { ...genuine.record, members: withEve, version, issuedAt } }
    ]
    const refused = new RegExp(`refused a membership record of folder team from ${eve.deviceId}`)
    const content = new TextEncoder().encode('eve, editor at last\n')
    serveHonestly(content)
    for (const [i, forged] of forgeries.entries()) {
      const seen = countLogged(refused)
      await eve.sendIndex(aliceId, eve.folderMessage('team', forged), eve.indexMessage('team', [eve.record(`forged-${i}.txt`, content)]))
      await logged(refused, seen + 1).catch((err: Error) => { throw new Error(`forgery ${i} was not refused: ${err.message}`) })
    }
    // Had a forgery been taken, eve would now be a member: she still is not.
    expect((await statusOf(alice)).folders[0]!.members).toEqual(members)
    const [answer] = await eve.requestChunks(aliceId, [{ folder: 'team', hash: sha256(new TextEncoder().encode(readme)), size: Buffer.byteLength(readme) }])
    expect(answer?.status).toBe(CHUNK_REFUSED)
    const honest = await honestEditReachesAlice('after-forgery')
    await unchangedSince(before, honest)
    expect(eve.messagesFrom(aliceId, undefined, 'team')).toEqual([])
    expect(eve.chunksAsked).toEqual([])
    // Bob, an honest member, never heard of eve either.
    expect((await statusOf(bob)).folders[0]!.members.some(m => m.deviceId === eve.deviceId)).toBe(false)
  })

  // Kept last: a pull that never ends would stall every test after it.
  it('gives up on a chunk answered with the wrong number of bytes, and goes on syncing', async () => {
    const content = randomBytes(50_000)
    await expectPullRefused('short.bin', content, content.subarray(0, 1000))
  })
})

/** An unsigned LEB128 varint: the length prefix of a libp2p length-prefixed frame. */
function varint (value: number): Uint8Array {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return new Uint8Array(bytes)
}
