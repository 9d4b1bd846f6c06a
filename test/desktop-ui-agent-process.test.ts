import { fork } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { AGENT_V8_FLAGS } from '@aerie/core/basics'
import { Lab, PASSPHRASE, waitFor } from './support/agents.ts'
import type { ChildProcess } from 'node:child_process'

const ENTRY = resolve(import.meta.dirname, '../apps/desktop/src/electron/agent-process.ts')
const SHIM = resolve(import.meta.dirname, 'support/parent-port-shim.ts')

// What Electron's utility process runs is `aerie run` itself, and the shell's stop message
// stops it as Ctrl-C would: cleanly, with its control file removed and exit code 0.
describe('the agent under the desktop shell', () => {
  const lab = new Lab()
  let child: ChildProcess | undefined
  afterAll(async () => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await lab.stopAll()
  })

  it('runs `aerie run` from AERIE_HOME, serves the UI, and stops cleanly on the stop message', async () => {
    const device = await lab.device('solo')
    await device.ok('ca', 'init', '--org', 'Example', '--user', 'solo@example.com', '--name', 'solo', '--listen', '/ip4/127.0.0.1/tcp/0')
    const config = JSON.parse(await readFile(join(device.home, 'config.json'), 'utf8')) as Record<string, unknown>
    await writeFile(join(device.home, 'config.json'), JSON.stringify({ ...config, mdns: false }))

    let log = ''
    child = fork(ENTRY, [], {
      // As the shell forks it: with the agent's V8 flags.
      execArgv: ['--import', SHIM, ...AGENT_V8_FLAGS],
      env: { ...process.env, AERIE_HOME: device.home, AERIE_CA_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    child.stdout!.on('data', (d: Buffer) => { log += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { log += d.toString() })
    const exited = new Promise<number | null>(resolve => child!.once('exit', resolve))
    await waitFor(async () => (await device.cli('ui')).code === 0, `the agent to serve its UI\n${log}`)
    expect((await device.ok('ui')).trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#secret=/)

    child.send({ type: 'stop' })
    expect(await exited).toBe(0)
    expect(log).toMatch(/stopping/)
    expect((await device.cli('status')).stderr).toMatch(/no agent is running/)
  })
})
