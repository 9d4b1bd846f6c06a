import { createHash, randomBytes } from 'node:crypto'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { resolve } from 'node:path'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { TlsStream } from '../../src/net/tls-stream.ts'
import { createOrg, enrollDevice } from '../pki/fixtures.ts'
import { loopbackHost } from './support/loopback-host.ts'
import type { AerieHost } from '../../src/index.ts'
import type { Device, Org } from '../pki/fixtures.ts'
import type { Connection, Stream } from '@libp2p/interface'

// The record phase as TLS 1.3 on the libp2p TCP socket (tls-stream.ts): every byte must
// arrive, in order, in both directions at once, and libp2p must forget a connection as
// soon as it is gone, whichever side closed, reset or died.
const EXCHANGE = '/aerie/test/exchange/1.0.0'
/** Spoken by support/tls-peer.ts: it sends without end. */
const FLOOD_PROTOCOL = '/aerie/test/flood/1.0.0'
const BYTES = 64 * 1024 * 1024

let org: Org
let devices: Device[]
beforeAll(async () => {
  org = await createOrg('TLS Org')
  devices = [enrollDevice(org, { deviceName: 'a' }), enrollDevice(org, { deviceName: 'b' }), enrollDevice(org, { deviceName: 'c' })]
})

const hosts: AerieHost[] = []
afterEach(async () => { await Promise.all(hosts.splice(0).map(async h => { await h.stop() })) })

async function host (device: Device): Promise<AerieHost> {
  const h = await loopbackHost(org, device)
  hosts.push(h)
  return h
}

async function waitFor (check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** `bytes` of random data in pieces of random size (1 B to 300 KiB), and its SHA-256. */
function* pieces (bytes: number, seed: Uint8Array): Generator<Uint8Array> {
  let left = bytes
  let i = 0
  while (left > 0) {
    const size = Math.min(left, 1 + (seed[i++ % seed.length]! * 1200 + i * 7919) % (300 * 1024))
    yield randomBytes(size)
    left -= size
  }
}

/** Sends `bytes` random bytes, then closes the writable end; resolves with their SHA-256. */
async function sendAll (stream: Stream, bytes: number): Promise<string> {
  const hash = createHash('sha256')
  for (const piece of pieces(bytes, randomBytes(64))) {
    hash.update(piece)
    if (!stream.send(piece)) await stream.onDrain({ signal: AbortSignal.timeout(30_000) })
  }
  await stream.close({ signal: AbortSignal.timeout(30_000) })
  return hash.digest('hex')
}

/** Reads until the peer closes its writable end; resolves with the SHA-256 and the count. */
async function receiveAll (stream: Stream): Promise<{ hash: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of stream) {
    for (const buf of chunk instanceof Uint8Array ? [chunk] : chunk) hash.update(buf)
    bytes += chunk.byteLength
  }
  return { hash: hash.digest('hex'), bytes }
}

async function readText (stream: Stream): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  for await (const chunk of stream) text += decoder.decode(chunk.subarray(), { stream: true })
  return text + decoder.decode()
}

function recordLayerOf (connection: Connection): unknown {
  return (connection as unknown as { muxer: { maConn: unknown } }).muxer.maConn
}

function socketOf (connection: Connection): Socket {
  return (connection as unknown as { maConn: { socket: Socket } }).maConn.socket
}

describe('TLS record phase', () => {
  it('moves 64 MiB each way at once over one stream, every byte in order', async () => {
    const a = await host(devices[0]!)
    const b = await host(devices[1]!)
    const atB = Promise.withResolvers<{ sent: string, received: { hash: string, bytes: number } }>()
    await b.libp2p.handle(EXCHANGE, async (stream) => {
      const [sent, received] = await Promise.all([sendAll(stream, BYTES), receiveAll(stream)])
      atB.resolve({ sent, received })
    })

    const stream = await a.libp2p.dialProtocol(multiaddr(b.addresses()[0]!), EXCHANGE)
    const [sentByA, receivedByA] = await Promise.all([sendAll(stream, BYTES), receiveAll(stream)])
    const { sent: sentByB, received: receivedByB } = await atB.promise

    expect(recordLayerOf(a.libp2p.getConnections()[0]!)).toBeInstanceOf(TlsStream)
    expect(recordLayerOf(b.libp2p.getConnections()[0]!)).toBeInstanceOf(TlsStream)
    expect(receivedByB.bytes).toBe(BYTES)
    expect(receivedByA.bytes).toBe(BYTES)
    expect(receivedByB.hash).toBe(sentByA)
    expect(receivedByA.hash).toBe(sentByB)
  }, 120_000)

  it('loses no byte that arrived with the SWITCH: 12 fresh connections, data at once', async () => {
    // The peer's first TLS bytes often arrive in the same read as its SWITCH; they must be
    // handed back to the socket (unshift) and reach OpenSSL first.
    const unshift = vi.spyOn(Socket.prototype, 'unshift')
    const a = await host(devices[0]!)
    const b = await host(devices[1]!)
    await b.libp2p.handle(EXCHANGE, async (stream) => {
      const received = await receiveAll(stream)
      stream.send(new TextEncoder().encode(`${received.bytes} ${received.hash}`))
      await stream.close()
    })
    try {
      for (let i = 0; i < 12; i++) {
        // libp2p refuses a 6th inbound connection a second from one host: space them.
        await new Promise(resolve => setTimeout(resolve, 250))
        const stream = await a.libp2p.dialProtocol(multiaddr(b.addresses()[0]!), EXCHANGE)
        const [sent, reply] = await Promise.all([sendAll(stream, 100_000 + i), readText(stream)])
        expect(reply).toBe(`${100_000 + i} ${sent}`)
        await Promise.all(a.libp2p.getConnections().map(async c => { await c.close() }))
        await waitFor(() => b.libp2p.getConnections().length === 0, 'b to drop the closed connection')
      }
      // The path this test is about was taken (the first TLS bytes came with the SWITCH).
      expect(unshift.mock.calls.some(([chunk]) => (chunk as Uint8Array).byteLength > 0)).toBe(true)
    } finally {
      unshift.mockRestore()
    }
  }, 60_000)

  it('a one-way transfer closed by the sender arrives whole', async () => {
    const a = await host(devices[0]!)
    const b = await host(devices[1]!)
    const got = Promise.withResolvers<{ hash: string, bytes: number }>()
    await b.libp2p.handle(EXCHANGE, async (stream) => {
      got.resolve(await receiveAll(stream))
      await stream.close()
    })
    const stream = await a.libp2p.dialProtocol(multiaddr(b.addresses()[0]!), EXCHANGE)
    const sent = await sendAll(stream, 3 * 1024 * 1024)
    const received = await got.promise
    expect(received).toEqual({ hash: sent, bytes: 3 * 1024 * 1024 })
  })

  /** A stream from a new connection to a peer that reads it to its end; `received` is what it read. */
  async function streamToReader (): Promise<{ connection: Connection, stream: Stream, received: Promise<{ hash: string, bytes: number }> }> {
    const a = await host(devices[0]!)
    const b = await host(devices[1]!)
    const got = Promise.withResolvers<{ hash: string, bytes: number }>()
    await b.libp2p.handle(EXCHANGE, async (stream) => { got.resolve(await receiveAll(stream)) })
    const connection = await a.libp2p.dial(multiaddr(b.addresses()[0]!))
    return { connection, stream: await connection.newStream(EXCHANGE), received: got.promise }
  }

  /** Sends every message at once, never waiting for drain; returns their SHA-256 and count. */
  function sendAtOnce (stream: Stream, messages: Iterable<Uint8Array>): { hash: string, bytes: number } {
    const hash = createHash('sha256')
    let bytes = 0
    for (const message of messages) {
      hash.update(message)
      bytes += message.byteLength
      stream.send(message)
    }
    return { hash: hash.digest('hex'), bytes }
  }

  it('closing the connection right after a burst of sends still delivers every byte', async () => {
    const { connection, stream, received } = await streamToReader()
    // Sent without waiting for drain, so most of it is still queued above the socket
    // (muxer and record layer) when the close begins.
    const sent = sendAtOnce(stream, pieces(8 * 1024 * 1024, randomBytes(64)))
    await stream.close({ signal: AbortSignal.timeout(30_000) })
    await connection.close({ signal: AbortSignal.timeout(30_000) })
    expect(await received).toEqual(sent)
  }, 60_000)

  it('small messages sent in one turn leave in a few writes, in order, and a close right after delivers them', async () => {
    const { connection, stream, received } = await streamToReader()
    // Each TLS write is a system call (and a TLS record): a pull's chunk requests, sent in
    // one turn, must not cost one each.
    const writes = vi.spyOn((recordLayerOf(connection) as { tls: TLSSocket }).tls, 'write')
    const sent = sendAtOnce(stream, Array.from({ length: 1000 }, (_, i) => randomBytes(1 + i % 200)))
    await stream.close({ signal: AbortSignal.timeout(30_000) })
    expect(await received).toEqual(sent)
    expect(writes.mock.calls.length).toBeLessThan(20)
  }, 60_000)
})

describe('TLS connection lifecycle', () => {
  async function connectedPair (): Promise<{ a: AerieHost, b: AerieHost, atA: Connection, atB: Connection }> {
    const a = await host(devices[0]!)
    const b = await host(devices[1]!)
    await a.dial(b.addresses()[0]!)
    await waitFor(() => b.libp2p.getConnections().length === 1, 'b to see the connection')
    const atA = a.libp2p.getConnections()[0]!
    const atB = b.libp2p.getConnections()[0]!
    expect(recordLayerOf(atA)).toBeInstanceOf(TlsStream)
    // A stream with traffic in flight, so closing has something to cut or finish.
    await b.libp2p.handle(EXCHANGE, async (stream) => { await receiveAll(stream).catch(() => {}) })
    const stream = await atA.newStream(EXCHANGE)
    stream.send(randomBytes(1024 * 1024))
    return { a, b, atA, atB }
  }

  async function bothForget (a: AerieHost, b: AerieHost, atA: Connection, atB: Connection): Promise<void> {
    await waitFor(() => a.libp2p.getConnections().length === 0, 'a to forget the connection')
    await waitFor(() => b.libp2p.getConnections().length === 0, 'b to forget the connection')
    expect(atA.status).not.toBe('open')
    expect(atB.status).not.toBe('open')
    await waitFor(() => socketOf(atA).destroyed && socketOf(atB).destroyed, 'both sockets to be destroyed')
  }

  it('the dialler closes: both sides forget the connection', async () => {
    const { a, b, atA, atB } = await connectedPair()
    await atA.close()
    await bothForget(a, b, atA, atB)
  })

  it('the listener closes: both sides forget the connection', async () => {
    const { a, b, atA, atB } = await connectedPair()
    await atB.close()
    await bothForget(a, b, atA, atB)
  })

  it('either side aborts (reset): both sides forget the connection', async () => {
    for (const side of ['a', 'b'] as const) {
      const { a, b, atA, atB } = await connectedPair()
      ;(side === 'a' ? atA : atB).abort(new Error('test abort'))
      await bothForget(a, b, atA, atB)
      await Promise.all(hosts.splice(0).map(async h => { await h.stop() }))
    }
  })

  it('a host stops: the other side forgets the connection', async () => {
    const { a, b, atA, atB } = await connectedPair()
    await a.stop()
    await bothForget(a, b, atA, atB)
  })

  it('a peer process is killed mid-transfer: the connection is forgotten', async () => {
    const peer = fork(resolve(import.meta.dirname, 'support/tls-peer.ts'), { stdio: 'inherit', execArgv: [] })
    try {
      const device = devices[2]!
      peer.send({ privateKeyPem: device.privateKeyPem, certPem: device.certPem, caCertPem: org.certPem })
      const [{ address }] = await once(peer, 'message') as [{ address: string }]
      const a = await host(devices[0]!)
      const stream = await a.libp2p.dialProtocol(multiaddr(address), FLOOD_PROTOCOL)
      const connection = a.libp2p.getConnections()[0]!
      expect(recordLayerOf(connection)).toBeInstanceOf(TlsStream)
      let received = 0
      const reading = (async () => { for await (const chunk of stream) received += chunk.byteLength })().catch(() => {})
      await waitFor(() => received > 4 * 1024 * 1024, 'data from the peer')
      peer.kill('SIGKILL')
      await waitFor(() => a.libp2p.getConnections().length === 0, 'a to forget the dead peer')
      await waitFor(() => socketOf(connection).destroyed, 'the socket to be destroyed')
      await reading
      expect(stream.status).not.toBe('open')
    } finally {
      peer.kill('SIGKILL')
    }
  })
})

