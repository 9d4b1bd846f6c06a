import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Two test hosts on a private link of their own: network namespaces joined by a veth
 * pair, with multicast routed onto the link. Nothing the hosts send can leave them.
 */
export class TwoHostLan {
  readonly names: [string, string]
  readonly addresses: [string, string] = ['10.213.7.1', '10.213.7.2']
  private readonly tag = randomBytes(3).toString('hex')

  constructor () {
    this.names = [`aerie-${this.tag}-a`, `aerie-${this.tag}-b`]
  }

  async create (): Promise<void> {
    const [a, b] = this.names
    const [va, vb] = [`va${this.tag}`, `vb${this.tag}`]
    await ip('netns', 'add', a)
    await ip('netns', 'add', b)
    await ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb)
    for (const [ns, dev, addr] of [[a, va, this.addresses[0]], [b, vb, this.addresses[1]]] as const) {
      await ip('link', 'set', dev, 'netns', ns)
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev)
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      await ip('-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on')
      await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev)
    }
  }

  async destroy (): Promise<void> {
    for (const ns of this.names) await ip('netns', 'del', ns).catch(() => {})
  }
}

async function ip (...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 })
}
