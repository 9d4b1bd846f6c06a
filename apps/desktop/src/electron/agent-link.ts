import { callAgent } from '../node/control-client.ts'
import { DeviceHome } from '../node/device-home.ts'
import { readUiSecret, uiLink } from '../node/ui/ui-secret.ts'
import type { BackupOverview } from '../node/backup/backup-agent.ts'
import type { UiStatus } from '../node/ui/ui-api.ts'

/**
 * How the shell reaches the agent it started: the control API names the UI's address (it
 * changes with every start), ui-secret lets it in, and the UI API's status feeds the tray
 * and, with the backup job, the notifications.
 */
export interface AgentUi {
  url: string
  secret: string
}

export interface AgentLink {
  /** The running agent's UI; undefined while no agent answers. */
  ui(): Promise<AgentUi | undefined>
  /** Its status; undefined when it does not answer (it stopped or restarted). */
  status(ui: AgentUi): Promise<UiStatus | undefined>
  /** Its backups with the current job; undefined when it does not answer or runs without backups. */
  backups(ui: AgentUi): Promise<BackupOverview | undefined>
}

export function agentLink (homeDir: string): AgentLink {
  const home = new DeviceHome(homeDir)
  return {
    async ui () {
      try {
        const { url } = await callAgent<{ url: string }>(home, 'GET', '/v1/ui')
        const secret = await readUiSecret(home)
        return secret === undefined ? undefined : { url, secret }
      } catch {
        return undefined
      }
    },
    status: async (ui) => await get<UiStatus>(ui, '/api/v1/status'),
    backups: async (ui) => await get<BackupOverview>(ui, '/api/v1/backup')
  }
}

async function get<T> (ui: AgentUi, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`${ui.url}${path}`, { headers: { authorization: `Bearer ${ui.secret}` }, signal: AbortSignal.timeout(10_000) })
    return res.ok ? await res.json() as T : undefined
  } catch {
    return undefined
  }
}

export { uiLink }
