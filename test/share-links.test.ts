import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Client } from '../apps/server/test/web/harness.ts'
import { readZip } from '../apps/server/test/share/zip-reader.ts'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// Share links end to end: a real agent's folder reaches a real aerie-server, a link made through
// its API serves the agent's bytes from the server's store, and a file dropped through an
// upload-only link becomes a change that syncs back to the agent's folder.

describe('share links, end to end', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let base: string
  let alice: Device
  let aliceDir: string
  let admin: Client
  const big = randomBytes(3 * 1024 * 1024 + 12345)

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-share-'))
    server = new ServerProcess(join(root, 'server'))
    base = (await server.start()).webUrl!
    alice = await lab.device('alice')
    await server.enroll(alice, 'alice')
    await alice.start()
    aliceDir = join(root, 'alice-team')
    await mkdir(join(aliceDir, 'reports'), { recursive: true })
    await writeFile(join(aliceDir, 'reports/big file.bin'), big)
    await writeFile(join(aliceDir, 'reports/summary – é.txt'), 'the summary\n')
    await server.keepFolder(alice, aliceDir, 'team')

    admin = await server.setUpAdmin()
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('serves an agent\'s file and folder byte for byte through links made with the API', async () => {
    await waitFor(async () => (await admin.get('/api/v1/folders/team/files?dir=reports')).body.entries?.length === 2, 'the server to list the files')
    const file = await admin.post('/api/v1/shares', { folder: 'team', path: 'reports/big file.bin', expiresIn: 3600, password: 'share password' })
    expect(file.status).toBe(200)
    const { url } = file.body
    expect(url).toMatch(new RegExp(`^${base}/s/[A-Za-z0-9_-]{43}$`))
    const unlock = await fetch(`${url}/unlock`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'password=share+password', redirect: 'manual' })
    expect(unlock.status).toBe(303)
    const cookie = unlock.headers.getSetCookie()[0]!.split(';')[0]!
    const download = await fetch(`${url}/download`, { headers: { cookie } })
    expect(download.status).toBe(200)
    expect(Buffer.from(await download.arrayBuffer()).equals(big)).toBe(true)
    const tail = await fetch(`${url}/download`, { headers: { cookie, range: 'bytes=-1000' } })
    expect(tail.status).toBe(206)
    expect(Buffer.from(await tail.arrayBuffer()).equals(big.subarray(-1000))).toBe(true)

    const folder = await admin.post('/api/v1/shares', { folder: 'team', path: '', expiresIn: 3600 })
    const zip = readZip(Buffer.from(await (await fetch(`${folder.body.url}/download`)).arrayBuffer()))
    expect(zip.map(e => e.name).sort()).toEqual(['reports/big file.bin', 'reports/summary – é.txt'])
    expect(zip.find(e => e.name === 'reports/big file.bin')!.data.equals(big)).toBe(true)
    expect((await admin.get('/api/v1/shares')).body.shares.map((s: { downloads: number }) => s.downloads)).toEqual([1, 1])
  })

  it('syncs a file dropped through an upload-only link to the agent\'s folder', async () => {
    const drop = await admin.post('/api/v1/shares', { folder: 'team', path: 'reports', expiresIn: 3600, uploadOnly: true, maxUploadBytes: 1024 * 1024 })
    expect(drop.status).toBe(200)
    const bytes = randomBytes(200_000)
    const upload = await fetch(`${drop.body.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent('from outside.bin') },
      body: bytes
    })
    expect(upload.status).toBe(201)
    expect(await upload.json()).toEqual({ name: 'from outside.bin', size: bytes.byteLength })
    const synced = join(aliceDir, 'reports/from outside.bin')
    await waitFor(async () => (await readFile(synced).catch(() => Buffer.alloc(0))).equals(bytes), `the dropped file to reach alice\n${server.log}\n${alice.log}`, 40_000)
    // A second drop of the same name does not overwrite the first.
    const again = await fetch(`${drop.body.url}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-file-name': 'from%20outside.bin' }, body: 'second' })
    expect((await again.json() as { name: string }).name).toBe('from outside (2).bin')
    await waitFor(async () => await readFile(join(aliceDir, 'reports/from outside (2).bin'), 'utf8').catch(() => '') === 'second', `the second drop to reach alice\n${server.log}`, 40_000)
    expect((await readFile(synced)).equals(bytes)).toBe(true)
    const audit = (await admin.get('/api/v1/audit?action=share.uploaded')).body.entries
    expect(audit.map((e: { detail: { path: string } }) => e.detail.path).sort()).toEqual(['reports/from outside (2).bin', 'reports/from outside.bin'])
  })
})
