import { isIPv4, isIPv6 } from 'node:net'
import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * LAN-only mode's one question: is an address on this network? Private (RFC 1918),
 * link-local, loopback, and IPv6 unique-local and link-local addresses are; everything
 * else (public addresses, carrier-grade NAT, names that were not resolved) is not.
 */
export function isLocalAddress (ip: string): boolean {
  if (isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number) as [number, number]
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
  }
  if (!isIPv6(ip)) return false
  const lower = ip.toLowerCase().replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (mapped !== null) return isLocalAddress(mapped[1]!)
  if (lower === '::1') return true
  const first = parseInt(lower.split(':')[0]! || '0', 16)
  // fc00::/7 unique-local, fe80::/10 link-local.
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80
}

/** Whether a multiaddr's IP is local; a DNS name is not (the dialler checks it once resolved). */
export function isLocalMultiaddr (address: Multiaddr | string): boolean {
  const match = /^\/(ip4|ip6|ip6zone\/[^/]+\/ip6)\/([^/]+)/.exec(address.toString())
  return match !== null && isLocalAddress(match[2]!)
}

/**
 * A libp2p connection gater that, while `lanOnly()` says so, neither dials nor accepts a
 * non-local address: enforced where connections are made, whatever asked for them.
 */
export function lanOnlyGater (lanOnly: () => boolean, onRefused?: (address: string) => void): ConnectionGater {
  return {
    denyDialMultiaddr: (address: Multiaddr) => lanOnly() && !isLocalMultiaddr(address),
    denyInboundConnection: (connection: MultiaddrConnection) => {
      if (!lanOnly() || isLocalMultiaddr(connection.remoteAddr)) return false
      onRefused?.(connection.remoteAddr.toString())
      return true
    }
  }
}
