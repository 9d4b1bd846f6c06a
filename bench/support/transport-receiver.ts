import { createServer } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { createAerieHost, libp2pKeyFromPem, TrustStore, tuneHeapForTransfers } from '@aerie/core'
import { ACK, BENCH_PROTOCOL, TLS_SUITE } from './transport-messages.ts'
import type { FromReceiver, ToReceiver } from './transport-messages.ts'
import type { AddressInfo, Server, Socket } from 'node:net'

tuneHeapForTransfers()

/**
 * The receiving device of the transport benchmark, in its own process (so sender and
 * receiver each get a core, as two real devices would). It accepts plain TCP, TLS 1.3
 * and Aerie connections on 127.0.0.1, counts bytes per connection and, when one has
 * brought all of them, writes ACK back on that same connection.
 */
function tell (message: FromReceiver): void {
  process.send?.(message)
}

// Without the parent there is nobody to measure for: leave at once.
process.on('disconnect', () => { process.exit(1) })
process.once('message', (message: ToReceiver) => {
  if (message.type !== 'start') return
  start(message.credentials, message.bytes).catch((err: Error) => {
    tell({ type: 'failed', message: `receiver could not start: ${err.message}` })
    process.exit(1)
  })
})

let total = 0

/** Counts one connection's bytes; returns true exactly once, when all have arrived. */
function counter (expected: number, what: string): (bytes: number) => boolean {
  let received = 0
  return (bytes) => {
    received += bytes
    total += bytes
    if (received > expected) {
      tell({ type: 'failed', message: `${what} brought ${received} bytes, more than the ${expected} expected` })
      return false
    }
    return received === expected
  }
}

async function start (credentials: { privateKeyPem: string, certPem: string, caCertPem: string, crlDer: Uint8Array }, bytes: number): Promise<void> {
  const onSocket = (what: string) => (socket: Socket): void => {
    socket.setNoDelay(true)
    const add = counter(bytes, what)
    socket.on('data', (chunk: Buffer) => { if (add(chunk.byteLength)) socket.write(ACK) })
    // Connection-setup samples are dropped by the sender as soon as they are up.
    socket.on('error', () => {})
  }
  const tcp = createServer(onSocket('tcp connection'))
  const tls = createTlsServer({
    key: credentials.privateKeyPem,
    cert: credentials.certPem,
    minVersion: 'TLSv1.3',
    ciphers: TLS_SUITE
  }, onSocket('tls connection'))
  tls.on('tlsClientError', () => {})

  const host = await createAerieHost({
    privateKey: libp2pKeyFromPem(credentials.privateKeyPem),
    trust: new TrustStore({ credentials: { certificate: credentials.certPem, ca: credentials.caCertPem }, crl: credentials.crlDer }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    // A refused handshake would otherwise show up only as a reset on the other side.
    log: (line) => { console.error(`receiver: ${line}`) }
  })
  await host.libp2p.handle(BENCH_PROTOCOL, async (stream) => {
    const add = counter(bytes, 'aerie stream')
    try {
      for await (const chunk of stream) {
        if (add(chunk.byteLength)) stream.send(ACK)
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })

  const progress = setInterval(() => { tell({ type: 'progress', bytes: total }) }, 250)
  process.on('message', (message: ToReceiver) => {
    if (message.type !== 'stop') return
    clearInterval(progress)
    tcp.close()
    tls.close()
    // Exit rather than crash so that --cpu-prof can write its profile.
    host.stop().finally(() => { process.exit(0) })
  })

  tell({
    type: 'ready',
    tcpPort: await listen(tcp),
    tlsPort: await listen(tls),
    aerieAddress: host.addresses()[0]!
  })
}

async function listen (server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return (server.address() as AddressInfo).port
}
