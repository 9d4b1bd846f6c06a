import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'
import { backUpDocuments, ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// The server's side of endpoint backup, end to end: a real aerie-server, real agents and the
// admin API. Retention after a snapshot, an admin's restore of one device's snapshot to another,
// a scrub that names the snapshot and file a damaged pack byte hurts, and the garbage collection
// that frees what forgotten snapshots alone needed.

// Response bodies are checked with expect() shapes; typing each one would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any
interface Snapshot { id: string, deviceId: string }
interface RunResult { snapshot: Snapshot }

/** The first admin, signed in to the console's API: `api('GET', '/devices')`. */
async function adminClient (server: ServerProcess): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number, body: Json }>> {
  const admin = await server.setUpAdmin()
  return async (method, path, body) => await admin.request(method, `/api/v1${path}`, body)
}

describe('endpoint backup administration', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let ada: Device
  let bob: Device
  let docs: string
  let api: Awaited<ReturnType<typeof adminClient>>
  const big = randomBytes(6 * 1024 * 1024)
  let first: Snapshot

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-backup-admin-'))
    server = new ServerProcess(join(root, 'server'))
    // A second of grace, so that what was stored a moment ago can be collected within the test.
    await server.start([], { AERIE_GC_GRACE: '1s' })
    api = await adminClient(server)
    ada = await lab.device('ada')
    await server.connect(ada, 'ada')
    bob = await lab.device('bob')
    await server.connect(bob, 'bob')
    const backedUp = await backUpDocuments(ada, root, big)
    docs = backedUp.docs
    first = backedUp.snapshot
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('restores a device\'s snapshot to another device only under an admin\'s grant, audited', async () => {
    const refused = await bob.cli('restore', first.id, '--to', join(root, 'bob-before'))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/has no snapshot/)
    const devices = (await api('GET', '/devices')).body.devices as Array<{ deviceId: string, deviceName: string }>
    const bobId = devices.find(d => d.deviceName === 'bob')!.deviceId
    const grant = await api('POST', `/backup/snapshots/${first.id}/restore-grants`, { device: bobId, ttlMinutes: 30 })
    expect(grant.status).toBe(200)
    const to = join(root, 'bob-restored')
    await bob.ok('restore', first.id, '--to', to)
    expect((await readFile(join(to, docs.slice(1), 'photos/big.raw'))).equals(big)).toBe(true)
    // The grant is for that snapshot only, and never shows another device's list.
    expect((JSON.parse(await bob.ok('restore', 'list', '--json')) as Snapshot[]).map(s => s.id)).not.toContain(first.id)
    const audit = (await api('GET', '/audit?limit=200')).body.entries as Array<{ action: string, target: string, actor: string, detail: Record<string, string> }>
    expect(audit.find(e => e.action === 'backup.restore_granted')).toMatchObject({ target: first.id, actor: 'admin@example.com' })
    expect(audit.find(e => e.action === 'backup.restore' && e.actor.startsWith('bob@example.com'))).toMatchObject({ target: first.id, detail: { grantedBy: 'admin@example.com' } })

    // The admin reads the same snapshot on the server; a revoked grant refuses the device's next restore.
    const listed = await api('GET', `/backup/snapshots/${first.id}/tree?${new URLSearchParams({ path: `${docs.slice(1)}/photos` })}`)
    expect(listed.body.entries).toEqual([expect.objectContaining({ name: 'big.raw', type: 'file', size: big.byteLength })])
    expect((await api('DELETE', `/backup/restore-grants/${grant.body.grant.id as string}`)).status).toBe(200)
    const after = await bob.cli('restore', first.id, '--to', join(root, 'bob-after'))
    expect(after.code).toBe(1)
    expect(after.stderr).toMatch(/has no snapshot/)
  })

  it('applies a device\'s retention policy after each new snapshot, and not while its user is on hold', async () => {
    const adaId = first.deviceId
    expect((await api('PUT', '/backup/holds/user/ada@example.com', { reason: 'audit 7' })).status).toBe(200)
    expect((await api('PUT', `/backup/retention/${adaId}`, { last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0 })).body.forgotten).toEqual([])
    await writeFile(join(docs, 'note.txt'), 'edited\n')
    const second = (JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult).snapshot
    expect((JSON.parse(await ada.ok('restore', 'list', '--json')) as Snapshot[]).map(s => s.id)).toEqual([first.id, second.id])
    expect((await api('DELETE', '/backup/holds/user/ada@example.com')).body.forgotten).toEqual([first.id])
    await writeFile(join(docs, 'note.txt'), 'edited again\n')
    const third = (JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult).snapshot
    expect((JSON.parse(await ada.ok('restore', 'list', '--json')) as Snapshot[]).map(s => s.id)).toEqual([third.id])
    // A forgotten snapshot is gone for its device too; its chunks stay in the store.
    expect((await ada.cli('restore', first.id, '--to', join(root, 'gone'))).code).toBe(1)
  })

  it('scrubs on demand (`aerie-server scrub --now`, the API): a damaged pack byte names the snapshots and the file that need it; `aerie-server scrub` prints it', async () => {
    expect((await server.cli(['scrub'])).stdout).toMatch(/no scrub has run yet/)
    // `--now` has the running server scrub (over its control socket), showing how far it is.
    const now = await server.cli(['scrub', '--now'])
    expect(now.code).toBe(0)
    expect(now.stderr).toMatch(/scrub: reading back every chunk: 0 of/)
    expect(now.stderr).toMatch(/scrub: \d+ chunks read back; now tracing/)
    expect(now.stdout).toMatch(/: (\d{2,}) chunks read back, 0 damaged\n$/)
    const clean = JSON.parse((await server.ok(['scrub', '--json'])).trim())
    expect(clean).toMatchObject({ damaged: [], snapshots: [] })
    expect(clean.checked).toBeGreaterThan(10)
    expect((await api('GET', '/audit?limit=200')).body.entries).toContainEqual(expect.objectContaining({ action: 'backup.scrub_requested', actor: 'local operator (aerie-server scrub --now)' }))
    // Without a running server there is nobody to ask.
    const nobody = await server.cli(['scrub', '--now'], { AERIE_DATA: join(root, 'no-server') })
    expect(nobody.code).toBe(1)
    expect(nobody.stderr).toMatch(/no team server is running on .*no-server.*aerie-server start/)

    expect(await server.flipPackByte(3 * 1024 * 1024)).toBeGreaterThan(big.byteLength)

    const report = (await api('POST', '/backup/scrub', {})).body.report as { damaged: unknown[], snapshots: Array<{ id: string, deviceName: string, files: string[] }> }
    expect(report.damaged).toHaveLength(1)
    expect(report.snapshots.length).toBeGreaterThanOrEqual(1)
    for (const s of report.snapshots) {
      expect(s.deviceName).toBe('ada')
      expect(s.files).toEqual([`${docs.slice(1)}/photos/big.raw`])
    }
    // The restore grant's snapshot (forgotten since) is no longer named; bob's restored copy is not the server's business.
    const printed = await server.cli(['scrub'])
    expect(printed.code).toBe(1)
    expect(printed.stdout).toMatch(/1 damaged/)
    expect(printed.stdout).toContain(`${docs.slice(1)}/photos/big.raw`)
    expect(printed.stdout).toContain(report.snapshots[0]!.id)
    const audit = (await api('GET', '/audit?limit=200')).body.entries as Array<{ action: string }>
    expect(audit.map(e => e.action)).toContain('backup.scrub_damage')

    // The next backup does not build on a damaged snapshot: it reads the files again and sends the damaged chunk anew, which repairs the store.
    const repair = JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult & { snapshot: { received: { bytes: number } } }
    expect(repair.snapshot.received.bytes).toBeGreaterThan(0)
    const after = (await api('POST', '/backup/scrub', {})).body.report
    expect(after).toMatchObject({ damaged: [], snapshots: [] })
    expect((await server.cli(['scrub'])).code).toBe(0)
    const to = join(root, 'after-repair')
    await ada.ok('restore', repair.snapshot.id, '--to', to)
    expect((await readFile(join(to, docs.slice(1), 'photos/big.raw'))).equals(big)).toBe(true)
  })

  it('frees the chunks only forgotten snapshots needed, never a held snapshot\'s, the central copy\'s or the latest\'s', async () => {
    // Two collections a grace period apart: the first fences off what was stored up to it (and
    // sweeps what lies before an older fence), the second sweeps the rest. Both reports, summed.
    // The second by `aerie-server gc --now` when `viaCli`.
    const collect = async (viaCli = false): Promise<Json> => {
      const first = await api('POST', '/backup/gc', {})
      expect(first.status).toBe(200)
      await new Promise(resolve => setTimeout(resolve, 1_100))
      let b: Json
      if (viaCli) {
        b = JSON.parse(await server.ok(['gc', '--now', '--json']))
      } else {
        const second = await api('POST', '/backup/gc', {})
        expect(second.status).toBe(200)
        b = second.body.report
      }
      const a = first.body.report
      return { ...b, sweptBytes: a.sweptBytes + b.sweptBytes, freedBytes: a.freedBytes + b.freedBytes }
    }
    // The central copy: a folder on ada that the server keeps, whose file is also in ada's backup set.
    expect((await api('POST', '/users', { email: 'ada@example.com', role: 'user', password: 'ada has a long password' })).status).toBe(200)
    const team = join(root, 'ada-team')
    const central = randomBytes(3 * 1024 * 1024)
    await mkdir(team, { recursive: true })
    await writeFile(join(team, 'central.bin'), central)
    await server.keepFolder(ada, team, 'team')
    const unique = randomBytes(12 * 1024 * 1024)
    await writeFile(join(docs, 'unique.bin'), unique)
    await writeFile(join(docs, 'central-copy.bin'), central)

    // Held: retention (last 1) forgets nothing, so the collection frees nothing of it.
    expect((await api('PUT', '/backup/holds/device/' + first.deviceId, { reason: 'case 12' })).status).toBe(200)
    const held = (JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult).snapshot
    await rm(join(docs, 'unique.bin'))
    await rm(join(docs, 'central-copy.bin'))
    const latest = (JSON.parse(await ada.ok('backup', 'run', '--json')) as RunResult).snapshot
    const whileHeld = await collect()
    expect(whileHeld.sweptBytes).toBeLessThan(unique.byteLength)
    const heldCopy = join(root, 'held-restore')
    await ada.ok('restore', held.id, '--to', heldCopy)
    expect((await readFile(join(heldCopy, docs.slice(1), 'unique.bin'))).equals(unique)).toBe(true)

    // Lifted: the held snapshot is forgotten, and the next collection frees what it alone needed.
    expect((await api('DELETE', '/backup/holds/device/' + first.deviceId)).body.forgotten).toContain(held.id)
    const report = await collect(true)
    expect(report.skipped).toBeUndefined()
    expect(report.sweptBytes).toBeGreaterThanOrEqual(unique.byteLength)
    expect(report.freedBytes).toBeGreaterThan(0)
    expect((await api('GET', '/backup/gc')).body.report).toMatchObject({ swept: report.swept, finishedAt: report.finishedAt })

    // What is still needed is all there: the latest snapshot restores, the central copy's file downloads, a scrub is clean.
    const latestCopy = join(root, 'latest-restore')
    await ada.ok('restore', latest.id, '--to', latestCopy)
    expect((await readFile(join(latestCopy, docs.slice(1), 'photos/big.raw'))).equals(big)).toBe(true)
    const link = (await ada.ok('share', 'create', join(team, 'central.bin'))).trim().split('\n').at(-1)!
    const download = await fetch(`${link}/download`)
    expect(download.status).toBe(200)
    expect(Buffer.from(await download.arrayBuffer()).equals(central)).toBe(true)
    expect((await api('POST', '/backup/scrub', {})).body.report).toMatchObject({ damaged: [], snapshots: [] })
    const audit = (await api('GET', '/audit?limit=200')).body.entries as Array<{ action: string, actor: string, detail: Record<string, string> }>
    expect(audit.find(e => e.action === 'backup.gc')?.detail).toMatchObject({ swept: expect.any(Number) })
    expect(audit).toContainEqual(expect.objectContaining({ action: 'backup.gc_requested', actor: 'local operator (aerie-server gc --now)' }))
    // In words: nothing left to free now.
    expect(await server.ok(['gc', '--now'])).toMatch(/^gc .*: 0 unneeded chunks \(0 B\) freed, \d+ kept as recent, \d+ still needed\n  \d+ packs? compacted, \d+ deleted: .* of disk given back\n$/)
    expect((await server.cli(['gc'])).stderr).toMatch(/say `aerie-server gc --now`/)
  })
})
