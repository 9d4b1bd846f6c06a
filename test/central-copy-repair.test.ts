import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Device } from './support/agents.ts'

// A damaged chunk in the team server's central copy: the scrub names the file, and the server
// fetches the chunk again from a member that has the file, so the next scrub is clean.

// Response bodies are checked with expect() shapes; typing each one would add nothing.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

describe('the central copy after a scrub found damage', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let alice: Device

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-central-repair-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    alice = await lab.device('alice')
    await server.connect(alice, 'alice')
  })

  afterAll(async () => {
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('fetches a damaged chunk again from a member, and the next scrub is clean', async () => {
    const dir = join(root, 'alice-team')
    await mkdir(dir, { recursive: true })
    const big = randomBytes(3 * 1024 * 1024)
    await writeFile(join(dir, 'big.bin'), big)
    await writeFile(join(dir, 'note.txt'), 'kept centrally\n')
    await server.keepFolder(alice, dir, 'team')
    const admin = await server.setUpAdmin()
    const scrub = async (): Promise<Json> => (await admin.request('POST', '/api/v1/backup/scrub', {})).body.report

    expect(await scrub()).toMatchObject({ damaged: [], centralFiles: [] })
    // The store holds this folder alone: a byte a megabyte into its oldest pack is big.bin's.
    expect(await server.flipPackByte(1024 * 1024)).toBeGreaterThan(big.byteLength)
    const report = await scrub()
    expect(report.damaged).toHaveLength(1)
    expect(report.centralFiles).toEqual([{ folder: 'team', path: 'big.bin', version: 'current' }])

    await waitFor(() => server.log.includes('central copy repair: 1 of 1 files whole again'), `the server to repair big.bin\n${server.log}`, 30_000)
    expect(await scrub()).toMatchObject({ damaged: [], centralFiles: [] })
  })
})
