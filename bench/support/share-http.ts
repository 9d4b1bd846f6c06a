import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { BenchError } from './measure.ts'

/**
 * The share benchmark's HTTP pieces: the reference server (a plain Node `fs.createReadStream`
 * behind http.createServer, the same bytes from the same disk), a download that only counts
 * bytes, and the admin API calls that make links on the real server.
 */

export interface ReferenceServer extends AsyncDisposable { url: (name: string) => string }

export async function startReferenceServer (dir: string): Promise<ReferenceServer> {
  const server = createServer((request, response) => {
    const path = join(dir, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname.slice(1)))
    const stream = createReadStream(path)
    stream.once('open', () => { response.writeHead(200, { 'content-type': 'application/octet-stream' }); stream.pipe(response) })
    stream.once('error', () => { response.writeHead(404).end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: name => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    async [Symbol.asyncDispose] () {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** Downloads `url` to nowhere; the bytes received (checked against `expected`). */
export async function download (url: string, expected: number): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(600_000) })
  if (response.status !== 200 || response.body == null) throw new BenchError(`GET ${url.replace(/\/s\/[^/]+/, '/s/…')} answered ${response.status}`)
  let received = 0
  for await (const chunk of response.body) received += chunk.byteLength
  if (received !== expected) throw new BenchError(`GET ${url} gave ${received} bytes, not ${expected}`)
  return received
}

/** Sets up the first administrator with the server's setup token and makes share links as them. */
export async function shareLinks (base: string, dataDir: string): Promise<(folder: string, path: string) => Promise<string>> {
  const token = (await readFile(join(dataDir, 'setup-token'), 'utf8')).trim()
  const setup = await fetch(`${base}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, email: 'bench@example.com', password: 'a long bench password' })
  })
  if (setup.status !== 200) throw new BenchError(`setting up the server's admin failed: ${await setup.text()}`)
  const cookie = setup.headers.getSetCookie()[0]!.split(';')[0]!
  const { csrfToken } = await setup.json() as { csrfToken: string }
  return async (folder, path) => {
    const made = await fetch(`${base}/api/v1/shares`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ folder, path, expiresIn: 3600 })
    })
    if (made.status !== 200) throw new BenchError(`making a share link failed: ${await made.text()}`)
    return (await made.json() as { url: string }).url
  }
}
