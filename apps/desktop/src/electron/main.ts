// Electron's main process: the shell (shell.ts) with the real Electron. Everything a person
// sees is the agent's UI; see README, "The desktop app".
import { fileURLToPath } from 'node:url'
import electron from 'electron'
import { resolveHome } from '../node/device-home.ts'
import { agentLink } from './agent-link.ts'
import { createShell } from './shell.ts'

const home = resolveHome()
createShell(electron, {
  home,
  agentEntry: fileURLToPath(new URL('./agent-process.ts', import.meta.url)),
  preload: fileURLToPath(new URL('./preload.ts', import.meta.url)),
  link: agentLink(home),
  log: (line) => { process.stderr.write(`${new Date().toISOString()} ${line}\n`) }
})
