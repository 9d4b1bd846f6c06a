// The admin API client: JSON in and out, the session's CSRF token on every change, and one error type.

let csrfToken

export class ApiError extends Error {
  constructor (status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export function setCsrfToken (token) {
  csrfToken = token
}

export async function api (method, path, body) {
  const headers = { accept: 'application/json' }
  const init = { method, headers, credentials: 'same-origin' }
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrfToken !== undefined) headers['x-csrf-token'] = csrfToken
    if (method !== 'DELETE') {
      headers['content-type'] = 'application/json'
      init.body = JSON.stringify(body ?? {})
    }
  }
  let response
  try {
    response = await fetch(`/api/v1${path}`, init)
  } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'the server cannot be reached; check the connection and try again')
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) {
    const error = data.error ?? {}
    throw new ApiError(response.status, error.code ?? 'ERR_HTTP', error.message ?? `the server answered ${response.status}`)
  }
  if (typeof data.csrfToken === 'string') csrfToken = data.csrfToken
  return data
}
