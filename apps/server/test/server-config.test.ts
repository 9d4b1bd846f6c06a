import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_PORT, loadConfig } from '../src/config.ts'

describe('team server configuration', () => {
  let dir: string

  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'aerie-config-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('has working defaults', () => {
    const config = loadConfig({ data: dir }, {})
    expect(config).toMatchObject({ dataDir: dir, port: DEFAULT_PORT, host: '0.0.0.0', http: false, locked: false, trustProxy: false, gcGrace: 24 * 3_600_000, scrubRate: 64 * 1024 ** 2 })
  })

  it('layers the file, then the environment, then flags', async () => {
    await writeFile(join(dir, 'server.json'), JSON.stringify({ port: 9000, org: 'From File', trustProxy: true, scrubRate: 1048576 }))
    expect(loadConfig({ data: dir }, {})).toMatchObject({ port: 9000, org: 'From File', trustProxy: true, scrubRate: 1048576 })
    expect(loadConfig({ data: dir }, { AERIE_PORT: '9001' }).port).toBe(9001)
    expect(loadConfig({ data: dir, port: '9002' }, { AERIE_PORT: '9001' }).port).toBe(9002)
    expect(loadConfig({ data: dir }, { AERIE_P2P_LISTEN: '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2' }).p2pListen).toHaveLength(2)
    await rm(join(dir, 'server.json'))
  })

  it('names the setting and the source of every bad value', async () => {
    expect(() => loadConfig({ data: dir }, { AERIE_PORT: 'eighty' })).toThrow(/AERIE_PORT must be a port number/)
    expect(() => loadConfig({ data: dir, port: '70000' }, {})).toThrow(/--port must be a port number/)
    expect(() => loadConfig({ data: dir }, { AERIE_LOCKED: 'maybe' })).toThrow(/AERIE_LOCKED must be true or false/)
    expect(() => loadConfig({ data: dir }, { AERIE_PUBLIC_URL: 'ftp://x' })).toThrow(/http\(s\) URL/)
    expect(loadConfig({ data: dir, 'gc-grace': '36h' }, {}).gcGrace).toBe(36 * 3_600_000)
    expect(() => loadConfig({ data: dir }, { AERIE_GC_GRACE: 'a day' })).toThrow(/AERIE_GC_GRACE: "a day" is not a duration/)
    expect(() => loadConfig({ data: dir }, { AERIE_GC_GRACE: '0s' })).toThrow(/gcGrace must be at least 1s/)
    expect(loadConfig({ data: dir, 'scrub-rate': '200M' }, {}).scrubRate).toBe(200 * 1024 ** 2)
    expect(loadConfig({ data: dir }, { AERIE_SCRUB_RATE: 'off' }).scrubRate).toBe(0)
    expect(() => loadConfig({ data: dir }, { AERIE_SCRUB_RATE: 'slow' })).toThrow(/AERIE_SCRUB_RATE: "slow" is not a rate/)
    await writeFile(join(dir, 'server.json'), '{ "port": 80, "colour": "blue" }')
    expect(() => loadConfig({ data: dir }, {})).toThrow(/unknown setting "colour"/)
    await writeFile(join(dir, 'server.json'), '{ not json')
    expect(() => loadConfig({ data: dir }, {})).toThrow(/server.json is not valid JSON/)
    await rm(join(dir, 'server.json'))
    expect(() => loadConfig({ data: dir }, {}, join(dir, 'missing.json'))).toThrow(/cannot read the configuration file/)
  })

  it('refuses plain HTTP beyond loopback, and a certificate without its key', () => {
    expect(() => loadConfig({ data: dir, http: true }, {})).toThrow(/plain HTTP is allowed only on 127.0.0.1/)
    expect(loadConfig({ data: dir, http: true, host: '127.0.0.1' }, {}).http).toBe(true)
    expect(() => loadConfig({ data: dir, 'tls-cert': '/x.pem' }, {})).toThrow(/needs its key too/)
  })
})
