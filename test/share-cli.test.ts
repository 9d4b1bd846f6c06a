import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// `aerie share …` from a device: the agent asks the team server over /aerie/share/1.0.0, for the
// user its certificate names; the links are the server's, under its policy, like the console's.

interface Link { id: string, state: string, downloads: number, maxDownloads?: number, hasPassword: boolean }

describe('share links from the command line', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let ada: Device
  let adaDir: string
  const bytes = randomBytes(700_000)

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-share-cli-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    const admin = await server.setUpAdmin()
    expect((await admin.post('/api/v1/users', { email: 'ada@example.com', role: 'user', password: 'ada has a long password' })).status).toBe(200)

    ada = await lab.device('ada')
    await server.enroll(ada, 'ada')
    await ada.start()
    adaDir = join(root, 'ada-team')
    await mkdir(join(adaDir, 'docs'), { recursive: true })
    await writeFile(join(adaDir, 'docs/report.pdf'), bytes)
    await server.keepFolder(ada, adaDir, 'team')
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('makes a link to a file that stops after its download limit, lists it, and revokes another', async () => {
    const out = await ada.ok('share', 'create', join(adaDir, 'docs/report.pdf'), '--expires', '1h', '--max-downloads', '1')
    const url = out.trim().split('\n').at(-1)!
    expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{43}$/)
    const first = await fetch(`${url}/download`)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-disposition')).toContain('report.pdf')
    expect(Buffer.from(await first.arrayBuffer()).equals(bytes)).toBe(true)
    expect((await fetch(`${url}/download`)).status).toBe(410)

    const folderLink = JSON.parse(await ada.ok('share', 'create', join(adaDir, 'docs'), '--json')) as { link: Link, url: string }
    expect((await fetch(folderLink.url)).status).toBe(200)
    await ada.ok('share', 'revoke', folderLink.link.id)
    expect((await fetch(folderLink.url)).status).toBe(410)

    const links = JSON.parse(await ada.ok('share', 'list', '--json')) as Link[]
    expect(links.map(l => l.state).sort()).toEqual(['exhausted', 'revoked'])
    expect(links.find(l => l.state === 'exhausted')).toMatchObject({ downloads: 1, maxDownloads: 1, hasPassword: false })
  })

  it('refuses a device whose user has no account, and a path outside every synced folder, each with a clear reason', async () => {
    const bob = await lab.device('bob')
    await server.enroll(bob, 'bob')
    await bob.start()
    const bobDir = join(root, 'bob-own')
    await mkdir(bobDir)
    await writeFile(join(bobDir, 'note.txt'), 'hi')
    await server.keepFolder(bob, bobDir, 'bobs')
    const refused = await bob.cli('share', 'create', join(bobDir, 'note.txt'))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/bob@example.com has no active account on the team server/)
    const outside = await ada.cli('share', 'create', root)
    expect(outside.code).toBe(1)
    expect(outside.stderr).toMatch(/is not in a synced folder/)
  })
})
