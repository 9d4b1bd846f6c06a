import { readFile } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'

// `aerie stop` ends the running agent the way Ctrl-C does: cleanly, with exit code 0.
describe('aerie stop', () => {
  const lab = new Lab()
  afterAll(async () => { await lab.stopAll() })

  it('stops the running agent, and says so when none runs', async () => {
    const alice = await lab.caHolder('alice')
    // `aerie run` restarted itself in place (same pid) with the agent's V8 flags.
    expect((await readFile(`/proc/${alice.agent!.pid}/cmdline`, 'utf8')).split('\0')).toContain('--max-semi-space-size=8')
    const exited = new Promise<number | null>(resolve => alice.agent!.once('exit', resolve))
    expect(await alice.ok('stop')).toMatch(/the agent has stopped/)
    expect(await exited).toBe(0)
    expect(alice.log).toMatch(/stopping/)
    expect(await alice.ok('stop')).toMatch(/no agent is running/)
  })
})
