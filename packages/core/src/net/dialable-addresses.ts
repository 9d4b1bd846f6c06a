import { networkInterfaces } from 'node:os'

/**
 * Turns listen addresses into addresses others can dial: a wildcard host becomes each
 * of this machine's interface addresses (LAN first, loopback last), /p2p/... is dropped
 * (the enrollment code names the CA instead), and port 0 is useless.
 */
export function dialableAddresses (listen: string[], limit = 4): string[] {
  const out: string[] = []
  for (const address of listen) {
    const match = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)/.exec(address)
    if (match == null || match[3] === '0') continue
    const [, family, host, port] = match
    if (host === '0.0.0.0' || host === '::') {
      for (const ip of interfaceAddresses(family === 'ip4' ? 'IPv4' : 'IPv6')) out.push(`/${family}/${ip}/tcp/${port}`)
    } else {
      out.push(`/${family}/${host}/tcp/${port}`)
    }
  }
  return [...new Set(out)].slice(0, limit)
}

function interfaceAddresses (family: 'IPv4' | 'IPv6'): string[] {
  const external: string[] = []
  const internal: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family !== family || (family === 'IPv6' && info.address.startsWith('fe80'))) continue
      ;(info.internal ? internal : external).push(info.address)
    }
  }
  return [...external, ...internal]
}
