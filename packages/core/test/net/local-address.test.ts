import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { isLocalAddress, isLocalMultiaddr, lanOnlyGater } from '../../src/net/local-address.ts'
import type { MultiaddrConnection } from '@libp2p/interface'

describe('LAN-only mode\'s address classifier', () => {
  it('counts private, link-local, loopback and IPv6 unique-local addresses as local', () => {
    for (const ip of ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.20', '169.254.3.4', '127.0.0.1', '127.8.9.10',
      '::1', 'fe80::1', 'fe80::1%eth0', 'febf::1', 'fc00::1', 'fd12:3456::1', '::ffff:192.168.0.1']) {
      expect(isLocalAddress(ip), ip).toBe(true)
    }
  })

  it('counts public, carrier-grade NAT, unspecified and malformed addresses as not local', () => {
    for (const ip of ['8.8.8.8', '172.15.0.1', '172.32.0.1', '192.169.0.1', '100.64.0.1', '11.0.0.1', '0.0.0.0', '2001:db8::1', '2606:4700::1',
      'fec0::1', '::ffff:8.8.8.8', '::', 'example.com', '', '999.1.1.1']) {
      expect(isLocalAddress(ip), ip).toBe(false)
    }
  })

  it('reads the IP of a multiaddr; a DNS name is not local', () => {
    expect(isLocalMultiaddr('/ip4/192.168.1.20/tcp/4001')).toBe(true)
    expect(isLocalMultiaddr(multiaddr('/ip6/fd00::2/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'))).toBe(true)
    expect(isLocalMultiaddr('/ip4/203.0.113.9/tcp/4001')).toBe(false)
    expect(isLocalMultiaddr('/dns4/sync.example.com/tcp/4001')).toBe(false)
  })
})

describe('the LAN-only connection gater', () => {
  const inbound = (address: string): MultiaddrConnection => ({ remoteAddr: multiaddr(address) }) as unknown as MultiaddrConnection

  it('denies dialling and accepting non-local addresses only while LAN-only is on', async () => {
    let on = true
    const refused: string[] = []
    const gater = lanOnlyGater(() => on, (address) => { refused.push(address) })
    expect(await gater.denyDialMultiaddr!(multiaddr('/ip4/203.0.113.9/tcp/4001'))).toBe(true)
    expect(await gater.denyDialMultiaddr!(multiaddr('/ip4/192.168.1.20/tcp/4001'))).toBe(false)
    expect(await gater.denyDialMultiaddr!(multiaddr('/ip4/127.0.0.1/tcp/4001'))).toBe(false)
    expect(await gater.denyInboundConnection!(inbound('/ip4/198.51.100.7/tcp/51000'))).toBe(true)
    expect(await gater.denyInboundConnection!(inbound('/ip4/10.1.2.3/tcp/51000'))).toBe(false)
    expect(refused).toEqual(['/ip4/198.51.100.7/tcp/51000'])
    on = false
    expect(await gater.denyDialMultiaddr!(multiaddr('/ip4/203.0.113.9/tcp/4001'))).toBe(false)
    expect(await gater.denyInboundConnection!(inbound('/ip4/198.51.100.7/tcp/51000'))).toBe(false)
  })
})
