import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'

const OLD = 'first admin passphrase'
const NEW = 'the rotated admin passphrase'

async function post (url: string, body: unknown): Promise<{ status: number, body: { error?: { code: string, message: string } } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: await response.json() as { error?: { code: string, message: string } } }
}

describe('team server: locked mode and passphrase rotation', () => {
  let root: string
  let server: ServerProcess
  let deviceId: string | undefined

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-locked-'))
    server = new ServerProcess(join(root, 'server'))
  })

  afterAll(async () => {
    await server.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('keeps no key on disk, and serves nothing but the unlock page until the passphrase is given', async () => {
    deviceId = (await server.start(['--locked'], { AERIE_PASSPHRASE: OLD })).deviceId
    expect(deviceId).toMatch(/^[a-z2-7]{16}$/)
    await server.stop()
    await expect(stat(join(server.dataDir, 'keys/local-secret'))).rejects.toThrow()

    const gate = await server.start(['--locked'])
    expect(gate.locked).toBe(true)
    const page = await fetch(`${gate.webUrl!}/`)
    expect(await page.text()).toContain('locked')
    const api = await fetch(`${gate.webUrl!}/api/v1/devices`)
    expect(api.status).toBe(503)
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('ERR_LOCKED')

    const wrong = await post(`${gate.webUrl!}/api/v1/unlock`, { passphrase: 'not the passphrase' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error?.message).toMatch(/passphrase/)
    expect((await post(`${gate.webUrl!}/api/v1/unlock`, { nonsense: 1 })).status).toBe(400)
    expect((await server.state()).locked).toBe(true)

    expect((await post(`${gate.webUrl!}/api/v1/unlock`, { passphrase: OLD })).status).toBe(200)
    await waitFor(async () => (await server.state()).locked === false, `the server to start after unlocking\n${server.log}`)
    expect((await server.state()).deviceId).toBe(deviceId)
  })

  it('rotates the passphrase without touching the data: the old one stops working, the new one opens the same server', async () => {
    await server.stop()
    await server.ok(['passphrase', 'change'], { AERIE_PASSPHRASE: OLD, AERIE_NEW_PASSPHRASE: NEW })
    await expect(server.start(['--locked'], { AERIE_PASSPHRASE: OLD })).rejects.toThrow(/wrong|passphrase/i)
    const state = await server.start(['--locked'], { AERIE_PASSPHRASE: NEW })
    expect(state.deviceId).toBe(deviceId)
  })
})
