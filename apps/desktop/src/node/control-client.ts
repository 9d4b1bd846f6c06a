import { AerieError } from '@aerie/core/basics'
import type { DeviceHome } from './device-home.ts'

export class AgentNotRunningError extends AerieError {
  constructor (home: string) {
    super('ERR_AGENT_NOT_RUNNING', `no agent is running for ${home}; start one with \`aerie --home ${home} run\``)
  }
}

/** Calls the running agent's control API (see control-server.ts). */
export async function callAgent<T> (home: DeviceHome, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let info: { url: string, token: string }
  try {
    info = JSON.parse(await home.read('agent.json')) as { url: string, token: string }
  } catch {
    throw new AgentNotRunningError(home.dir)
  }
  let res: Response
  try {
    res = await fetch(`${info.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000)
    })
  } catch {
    // agent.json left behind by an agent that was killed
    throw new AgentNotRunningError(home.dir)
  }
  const json = await res.json() as { error?: { code: string, message: string } }
  if (!res.ok) throw new AerieError(json.error?.code ?? 'ERR_AGENT', json.error?.message ?? `agent answered ${res.status}`)
  return json as T
}

/** Like callAgent, but undefined when no agent is running. */
export async function tryCallAgent<T> (home: DeviceHome, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T | undefined> {
  try {
    return await callAgent<T>(home, method, path, body)
  } catch (err) {
    if (err instanceof AgentNotRunningError) return undefined
    throw err
  }
}
