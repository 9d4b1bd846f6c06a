import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { rm } from 'node:fs/promises'
import { AerieError } from '@aerie/core'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DeviceHome } from './device-home.ts'

/**
 * The running agent's control API: JSON over HTTP on 127.0.0.1 only, guarded by a
 * per-run secret that only processes able to read the device's home (agent.json, 0600)
 * know. The CLI uses it today; the UI will use the same API.
 */
export type ControlRoutes = Record<string, (body: unknown) => Promise<unknown>>

export interface ControlServer {
  url: string
  close(): Promise<void>
}

export async function startControlServer (home: DeviceHome, routes: ControlRoutes): Promise<ControlServer> {
  const token = randomBytes(32).toString('base64url')
  const expected = Buffer.from(`Bearer ${token}`)
  let port = 0

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => { reply(res, 500, { error: { code: 'ERR_INTERNAL', message: String(err) } }) })
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page on another site could reach 127.0.0.1 through DNS rebinding: insist on our own Host.
    if (req.headers.host !== `127.0.0.1:${port}`) return reply(res, 421, { error: { code: 'ERR_HOST', message: 'wrong Host header' } })
    const auth = Buffer.from(req.headers.authorization ?? '')
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return reply(res, 401, { error: { code: 'ERR_UNAUTHORIZED', message: 'missing or wrong agent secret' } })
    }
    const route = routes[`${req.method} ${req.url}`]
    if (route == null) return reply(res, 404, { error: { code: 'ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` } })
    let body: unknown
    try {
      body = await readJson(req)
    } catch {
      return reply(res, 400, { error: { code: 'ERR_BAD_REQUEST', message: 'body is not JSON (at most 64 KiB)' } })
    }
    try {
      reply(res, 200, await route(body))
    } catch (err) {
      const code = err instanceof AerieError ? err.code : 'ERR_INTERNAL'
      reply(res, err instanceof AerieError ? 400 : 500, { error: { code, message: (err as Error).message } })
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve() })
  })
  port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  await home.write('agent.json', JSON.stringify({ pid: process.pid, url, token }) + '\n', true)

  return {
    url,
    async close () {
      await rm(home.path('agent.json'), { force: true })
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}

export function reply (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(text)
}

export async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 64 * 1024) throw new Error('too large')
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}
