import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { BACKED_UP_NOTE, backUpDocuments, ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// The team server's chunk store index lost, with a damaged pack byte on top: the server refuses
// to start on an empty index, `aerie-server store rebuild-index` makes it again from the packs,
// the next scrub names the file whose chunk the damage took, and the device's next backup
// sends that chunk again; every file then restores byte for byte.

// Response bodies are checked with expect() shapes; typing each one would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

describe('rebuilding the team server\'s chunk store index', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let ada: Device
  let docs: string
  const big = randomBytes(6 * 1024 * 1024)
  let firstSnapshot: string

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-store-rebuild-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    ada = await lab.device('ada')
    await server.connect(ada, 'ada')
    const backedUp = await backUpDocuments(ada, root, big)
    docs = backedUp.docs
    firstSnapshot = backedUp.snapshot.id
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('refuses to start without its index, rebuilds it from the packs, and the scrub and the next backup repair what damage took', async () => {
    // Restarted where ada knows to find it.
    const p2p = (await server.state()).p2pAddresses![0]!
    await server.stop()
    for (const suffix of ['', '-wal', '-shm']) await rm(join(server.dataDir, 'store/chunks.db' + suffix), { force: true })
    // Damage on top: a byte inside big.raw's chunks, which the rebuild cannot index.
    expect(await server.flipPackByte(3 * 1024 * 1024)).toBeGreaterThan(big.byteLength)

    await expect(server.start()).rejects.toThrow(/chunks\.db is missing.*aerie-server store rebuild-index/s)

    const rebuilt = await server.cli(['store', 'rebuild-index'])
    expect(rebuilt.stdout).toMatch(/rebuilt the chunk store index .* from \d+ packs?: \d+ chunks/)
    expect(rebuilt.stdout).toMatch(/DAMAGED packs\/.*\.pack at \d+: \d+ bytes do not authenticate/)
    expect(rebuilt.code).toBe(1)

    const connections = server.log.split('connected to ada').length
    await server.start(['--p2p-listen', p2p])
    await waitFor(() => server.log.split('connected to ada').length > connections, `ada to reach the restarted server\n${server.log}`, 60_000)
    const admin = await server.setUpAdmin()
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number, body: Json }> => await admin.request(method, `/api/v1${path}`, body)
    const report = (await api('POST', '/backup/scrub', {})).body.report
    expect(report.damaged).toEqual([expect.objectContaining({ where: 'in no pack' })])
    expect(report.snapshots).toEqual([expect.objectContaining({ id: firstSnapshot, files: [`${docs.slice(1)}/photos/big.raw`] })])
    const printed = await server.cli(['scrub'])
    expect(printed.stdout).toMatch(/0 damaged, 1 missing/)
    expect(printed.code).toBe(1)
    const audit = (await api('GET', '/audit?limit=200')).body.entries as Array<{ action: string, detail: Json }>
    expect(audit.find(e => e.action === 'backup.store_index_rebuilt')?.detail).toMatchObject({ damaged: 1, unreadable: 0 })

    // The note restores already; big.raw fails, loudly, until the device sends its chunk again.
    const early = join(root, 'early')
    expect((await ada.cli('restore', firstSnapshot, '--to', early)).code).toBe(1)
    expect(await readFile(join(early, docs.slice(1), 'note.txt'), 'utf8')).toBe(BACKED_UP_NOTE)

    const repair = JSON.parse(await ada.ok('backup', 'run', '--json')) as { snapshot: { id: string, received: { bytes: number } } }
    expect(repair.snapshot.received.bytes).toBeGreaterThan(0)
    expect((await api('POST', '/backup/scrub', {})).body.report).toMatchObject({ damaged: [], snapshots: [] })
    for (const id of [firstSnapshot, repair.snapshot.id]) {
      const to = join(root, `restored-${id}`)
      await ada.ok('restore', id, '--to', to)
      expect((await readFile(join(to, docs.slice(1), 'photos/big.raw'))).equals(big)).toBe(true)
      expect(await readFile(join(to, docs.slice(1), 'note.txt'), 'utf8')).toBe(BACKED_UP_NOTE)
    }
  })
})
