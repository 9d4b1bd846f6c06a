// The agent's UI API: JSON in and out. The page logs in with the secret from the link
// `aerie ui` printed (#secret=…), which gives it an HttpOnly session cookie; the secret is
// then kept in this tab's sessionStorage only, so the tab logs in again by itself after the
// agent restarts, and it is taken out of the address bar at once.

const SECRET_KEY = 'aerie-ui-secret'

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Takes the secret out of the URL, if it is there. */
export function takeSecretFromUrl () {
  const match = /(?:^#|&)secret=([A-Za-z0-9_-]+)/.exec(location.hash)
  if (match === null) return
  sessionStorage.setItem(SECRET_KEY, match[1])
  history.replaceState(null, '', location.pathname + '#/')
}

export async function login () {
  const secret = sessionStorage.getItem(SECRET_KEY)
  if (secret === null) throw new ApiError(401, 'ERR_UNAUTHORIZED', 'open this page with the link that `aerie ui` prints (it carries the UI secret)')
  await request('POST', '/session', { secret })
}

async function request (method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' }
  if (method !== 'GET') {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body ?? {})
  }
  let response
  try {
    response = await fetch(`/api/v1${path}`, init)
  } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'the agent cannot be reached; is it running? (`aerie run`)')
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) {
    const error = data.error ?? {}
    throw new ApiError(response.status, error.code ?? 'ERR_HTTP', error.message ?? `the agent answered ${response.status}`)
  }
  return data
}

/** A call to the API; a lost session (the agent restarted) is renewed once. */
export async function api (method, path, body) {
  try {
    return await request(method, path, body)
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || path === '/session') throw err
    await login()
    return await request(method, path, body)
  }
}

export function query (params) {
  return new URLSearchParams(params).toString()
}

/**
 * The live status: `onStatus` gets every push. When the stream breaks (the agent restarted,
 * so the session is gone) it logs in again and reopens, waiting longer each time.
 */
export function liveStatus (onStatus, onConnection) {
  let delay = 500
  let source
  const open = () => {
    source = new EventSource('/api/v1/events')
    source.addEventListener('status', event => {
      delay = 500
      onConnection(true)
      onStatus(JSON.parse(event.data))
    })
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) { onConnection(false); return }
      onConnection(false)
      setTimeout(() => { login().catch(() => {}).finally(open) }, delay)
      delay = Math.min(delay * 2, 10_000)
    })
  }
  open()
  return () => source.close()
}
