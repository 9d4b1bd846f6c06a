import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { syncStatus, untilSame } from './support/shared-folder.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

/** Bytes in the server's pack files: what the central copy costs on disk. */
async function packBytes (dataDir: string): Promise<number> {
  let total = 0
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.name.endsWith('.pack')) total += (await stat(path)).size
    }
  }
  await walk(join(dataDir, 'store'))
  return total
}

describe('team server: the central copy', () => {
  const lab = new Lab()
  let server: ServerProcess
  let serverId: string
  let alice: Device
  let bob: Device
  let root: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-server-test-'))
    server = new ServerProcess(join(root, 'server'))
    serverId = (await server.start()).deviceId!
    // Devices enroll against the server, the organisation's CA holder; each knows only it.
    alice = await lab.device('alice')
    bob = await lab.device('bob')
    for (const [device, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
      await server.enroll(device, name)
    }
    await alice.start()
  })

  afterAll(async () => {
    await lab.stopAll()
    await server.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('keeps a folder shared with it, and an agent whose other members are offline syncs from it', async () => {
    const aliceDir = join(root, 'alice-team')
    await mkdir(join(aliceDir, 'docs/deep'), { recursive: true })
    const big = randomBytes(3 * 1024 * 1024)
    await writeFile(join(aliceDir, 'big.bin'), big)
    await writeFile(join(aliceDir, 'docs/deep/notes.txt'), 'central copy')
    await writeFile(join(aliceDir, 'empty.txt'), '')
    // Alice enrolled against the server, so her new folder is shared with it by default.
    await alice.ok('folder', 'add', aliceDir, '--id', 'team')
    const bobId = JSON.parse(await bob.ok('id', '--json')).deviceId as string
    await alice.ok('folder', 'share', 'team', bobId, '--role', 'editor')

    // The server takes the folder in: its store grows by about the folder's bytes.
    await waitFor(async () => await packBytes(server.dataDir) >= big.byteLength, `the server to store the folder\n${server.log}`, 40_000)
    await waitFor(async () => /folder team: kept \d+ of \d+ items/.test(server.log), `the server to finish the pull\n${server.log}`, 40_000)

    // Alice goes offline; Bob, who has never met Alice, gets the offer and the data from the server.
    await alice.stop()
    await bob.start()
    await waitFor(async () => (await syncStatus(bob)).offers.some(o => o.folder === 'team'), `the server to pass Alice's offer to Bob\n${server.log}\n${bob.log}`)
    const bobDir = join(root, 'bob-team')
    await mkdir(bobDir)
    await bob.ok('folder', 'add', bobDir, '--id', 'team')
    await untilSame([aliceDir, bobDir], [bob, alice])
    expect((await syncStatus(bob)).peers.find(p => p.deviceId === serverId)?.bytesIn).toBeGreaterThan(big.byteLength)
  })

  it('stores a chunk once, however many folders hold it', async () => {
    await alice.start()
    const before = await packBytes(server.dataDir)
    // A second folder with the same bytes as the first (a copy of big.bin under another name).
    const copyDir = join(root, 'alice-copy')
    await mkdir(copyDir)
    await writeFile(join(copyDir, 'same-bytes.bin'), await readFile(join(root, 'alice-team/big.bin')))
    await server.keepFolder(alice, copyDir, 'copy')
    // Nothing new was stored (at most a few bytes of chunk framing for a 0-byte change).
    expect(await packBytes(server.dataDir)).toBe(before)
  })

  it('keeps the versions a change replaced, and restores one for a device that never had it', async () => {
    const aliceFile = join(root, 'alice-team/docs/deep/notes.txt')
    const bobFile = join(root, 'bob-team/docs/deep/notes.txt')
    await writeFile(aliceFile, 'edited by alice')
    // Bob only reaches the server: the edit reaching him means the server has it.
    await waitFor(async () => await readFile(bobFile, 'utf8').catch(() => '') === 'edited by alice', `the edit to reach Bob through the server\n${server.log}`, 40_000)

    // Alice edited the file herself, so she has no old version of it; the server does.
    const listed = JSON.parse(await alice.ok('versions', aliceFile, '--json')) as { versions: unknown[], server: Array<{ mtimeMs: number, replacedAt?: string, size: number }> }
    expect(listed.versions).toEqual([])
    const old = listed.server.find(v => v.replacedAt !== undefined)
    expect(old?.size).toBe('central copy'.length)
    const out = await alice.ok('versions', 'restore', aliceFile, '--at', new Date(old!.mtimeMs).toISOString())
    expect(out).toMatch(/team server restored/)
    for (const file of [aliceFile, bobFile]) {
      await waitFor(async () => await readFile(file, 'utf8').catch(() => '') === 'central copy', `the restored version to reach ${file}\n${server.log}`, 40_000)
    }

    // The server's audit log has each folder it took in, each membership change, and the restore.
    const db = new DatabaseSync(join(server.dataDir, 'server.db'), { readOnly: true })
    try {
      const rows = db.prepare('SELECT actor, action, target FROM audit_log ORDER BY seq').all() as Array<{ actor: string, action: string, target: string }>
      const aliceId = JSON.parse(await alice.ok('id', '--json')).deviceId as string
      expect(rows).toContainEqual({ actor: `device ${aliceId}`, action: 'folder.kept', target: 'team' })
      expect(rows).toContainEqual({ actor: `device ${aliceId}`, action: 'folder.kept', target: 'copy' })
      expect(rows.some(r => r.action === 'folder.membership_changed' && r.target === 'team')).toBe(true)
      expect(rows).toContainEqual({ actor: `device ${aliceId}`, action: 'version.restored', target: 'team/docs/deep/notes.txt' })
    } finally {
      db.close()
    }
  })
})
