import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { Client } from '../apps/server/test/web/harness.ts'
import { ServerProcess } from './support/team-server.ts'

// Behind an organisation's reverse proxy: the console serves a certificate it is given, and
// believes X-Forwarded-For only when told to (--trust-proxy), so the audit log names the client.
const run = promisify(execFile)

/** The certificate a TLS server presents, trusting `ca` for it. */
async function servedCertificate (url: string, ca: string): Promise<X509Certificate> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost' }, (res) => {
      const raw = (res.socket as TLSSocket).getPeerX509Certificate()
      res.resume()
      if (raw === undefined) reject(new Error('no certificate')); else resolve(raw)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('team server behind a proxy', () => {
  let root: string
  const servers: ServerProcess[] = []

  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'aerie-proxy-')) })
  afterAll(async () => {
    for (const server of servers) await server.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('serves the certificate and key it is given instead of one from the org CA', async () => {
    const cert = join(root, 'public.crt')
    const key = join(root, 'public.key')
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
    const server = new ServerProcess(join(root, 'given-cert'))
    servers.push(server)
    const { webUrl } = await server.start(['--tls-cert', cert, '--tls-key', key], {}, { https: true })
    expect(webUrl).toMatch(/^https:/)
    const pem = await readFile(cert, 'utf8')
    const served = await servedCertificate(`${webUrl!}/api/openapi.json`, pem)
    expect(served.fingerprint256).toBe(new X509Certificate(pem).fingerprint256)
    await server.stop()
  })

  it('records the client address a trusted proxy forwards, and ignores the header otherwise', async () => {
    for (const trust of [true, false]) {
      const server = new ServerProcess(join(root, `proxy-${String(trust)}`))
      servers.push(server)
      const { webUrl } = await server.start(trust ? ['--trust-proxy'] : [])
      const token = await server.setupToken()
      const admin = new Client(webUrl!)
      const setup = await admin.request('POST', '/api/v1/setup', { token, email: 'admin@example.com', password: 'a long admin password' }, { 'x-forwarded-for': '203.0.113.7' })
      expect(setup.status).toBe(200)
      const entry = (await admin.get('/api/v1/audit?action=setup.completed')).body.entries[0]
      expect(entry.address).toBe(trust ? '203.0.113.7' : '127.0.0.1')
      await server.stop()
    }
  })

  it('says which address is taken when its port is in use, and does not linger', async () => {
    const busy = createServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as AddressInfo).port
    const server = new ServerProcess(join(root, 'busy-port'))
    servers.push(server)
    try {
      await expect(server.start(['--port', String(port)])).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}: another program`))
      // It exited (a half-started server would keep running with its libp2p peer).
      expect(server.process?.exitCode).toBe(1)
    } finally {
      busy.close()
    }
  })
})
