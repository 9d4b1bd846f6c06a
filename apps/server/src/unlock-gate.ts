import Fastify from 'fastify'
import { RateLimitedError, WrongPassphraseError } from '@aerie/core'
import type { FastifyInstance } from 'fastify'

/**
 * A locked server (locked mode: the data key is never on disk unwrapped) serves only this
 * until an admin gives the passphrase: a page with one field, and `POST /api/v1/unlock`.
 * Everything else answers 503. Attempts are taken one at a time (scrypt makes each cost
 * ≈ 0.4 s) and at most MAX_FAILURES per window, so guessing is slow.
 */
export interface UnlockGateInit {
  host: string
  port: number
  https?: { key: string, cert: string }
  trustProxy: boolean
  /** Opens the data key with the passphrase; throws WrongPassphraseError when it is wrong. */
  unlock(passphrase: string): Promise<void>
  /** The gate listens (at this URL). */
  onListening?(url: string): Promise<void>
  log(line: string): void
}

const MAX_FAILURES = 5
const WINDOW_MS = 60_000

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aerie team server — locked</title><link rel="stylesheet" href="/unlock.css"></head>
<body><main>
<h1><span aria-hidden="true">🔒</span> This team server is locked</h1>
<p>Its data is encrypted and the key is not kept on this machine. An administrator must enter the admin passphrase to start it.</p>
<form id="unlock"><label for="passphrase">Admin passphrase</label>
<input id="passphrase" name="passphrase" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Unlock</button></form>
<p id="message" role="status" aria-live="polite"></p>
</main><script type="module" src="/unlock.js"></script></body></html>`

const SCRIPT = `const form = document.getElementById('unlock')
const message = document.getElementById('message')
form.addEventListener('submit', async (event) => {
  event.preventDefault()
  message.textContent = 'Unlocking…'
  const response = await fetch('/api/v1/unlock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passphrase: form.passphrase.value }) })
  if (response.ok) { message.textContent = '✔ Unlocked. The server is starting…'; setTimeout(() => location.replace('/'), 3000); return }
  const body = await response.json().catch(() => ({}))
  message.textContent = '✖ ' + (body.error?.message ?? 'Unlocking failed')
  form.passphrase.select()
})`

const STYLE = 'body{font:1rem/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1d2430}' +
  'label{display:block;font-weight:600;margin:1rem 0 .25rem}input{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}' +
  'button{font:inherit;margin-top:1rem;padding:.5rem 1.25rem}:focus-visible{outline:3px solid #2457c5;outline-offset:2px}'

/** Serves the gate until the passphrase is right; resolves with who unlocked it, after the gate has closed. */
export async function waitForUnlock (init: UnlockGateInit): Promise<{ remoteAddress: string }> {
  const app: FastifyInstance = Fastify({ ...(init.https === undefined ? {} : { https: init.https }), trustProxy: init.trustProxy, bodyLimit: 4096 })
  let unlocked: (who: { remoteAddress: string }) => void
  const done = new Promise<{ remoteAddress: string }>(resolve => { unlocked = resolve })
  let failures: number[] = []
  let busy: Promise<unknown> = Promise.resolve()

  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-frame-options', 'DENY')
    reply.header('cache-control', 'no-store')
  })
  app.get('/unlock.js', async (_request, reply) => await reply.type('text/javascript').send(SCRIPT))
  app.get('/unlock.css', async (_request, reply) => await reply.type('text/css').send(STYLE))
  app.post('/api/v1/unlock', {
    schema: { body: { type: 'object', properties: { passphrase: { type: 'string', minLength: 1, maxLength: 1024 } }, required: ['passphrase'], additionalProperties: false } }
  }, async (request, reply) => {
    const { passphrase } = request.body as { passphrase: string }
    const attempt = busy.then(async () => {
      failures = failures.filter(at => Date.now() - at < WINDOW_MS)
      if (failures.length >= MAX_FAILURES) throw new RateLimitedError(`too many wrong passphrases; try again in ${Math.ceil((WINDOW_MS - (Date.now() - failures[0]!)) / 1000)} s`)
      try {
        await init.unlock(passphrase)
      } catch (err) {
        if (err instanceof WrongPassphraseError) failures.push(Date.now())
        throw err
      }
    })
    busy = attempt.catch(() => {})
    try {
      await attempt
    } catch (err) {
      const status = err instanceof WrongPassphraseError ? 401 : err instanceof RateLimitedError ? 429 : 500
      init.log(`unlock refused from ${request.ip}: ${(err as Error).message}`)
      return await reply.code(status).send({ error: { code: (err as { code?: string }).code ?? 'ERR_UNLOCK', message: (err as Error).message } })
    }
    init.log(`unlocked by an admin from ${request.ip}`)
    // Answer first, then give the port to the real server.
    reply.raw.once('finish', () => { void app.close().then(() => { unlocked({ remoteAddress: request.ip }) }) })
    return await reply.send({ ok: true })
  })
  app.setNotFoundHandler(async (request, reply) => {
    if (request.method === 'GET' && !request.url.startsWith('/api/')) return await reply.type('text/html').send(PAGE)
    return await reply.code(503).send({ error: { code: 'ERR_LOCKED', message: 'the team server is locked: an admin must unlock it with the admin passphrase' } })
  })
  app.setErrorHandler(async (error: { statusCode?: number, message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    return await reply.code(status).send({ error: { code: status === 400 ? 'ERR_INVALID_INPUT' : 'ERR_INTERNAL', message: error.message } })
  })
  await app.listen({ host: init.host, port: init.port })
  const url = listenUrl(app, { host: init.host, https: init.https !== undefined })
  await init.onListening?.(url)
  init.log(`locked: waiting for the admin passphrase at ${url}`)
  return await done
}

/** Where a started server can be reached (a wildcard host as localhost). */
export function listenUrl (app: FastifyInstance, init: { host: string, https: boolean }): string {
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const host = init.host === '0.0.0.0' || init.host === '::' ? 'localhost' : init.host
  return `${init.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
}
