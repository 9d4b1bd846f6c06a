import { createAerieHost, libp2pKeyFromPem, TrustStore } from '../../../src/index.ts'

/**
 * A second device in its own process, for tls-transport.test.ts: it listens on 127.0.0.1,
 * tells its parent its address and sends bytes without end on every FLOOD stream, so that
 * the parent can kill it in the middle of a transfer.
 */
const FLOOD_PROTOCOL = '/aerie/test/flood/1.0.0' // as in tls-transport.test.ts (which must not import this file)

interface Start { privateKeyPem: string, certPem: string, caCertPem: string }

process.on('disconnect', () => { process.exit(1) })
process.once('message', (message: Start) => {
  void (async () => {
    const host = await createAerieHost({
      privateKey: libp2pKeyFromPem(message.privateKeyPem),
      trust: new TrustStore({ credentials: { certificate: message.certPem, ca: message.caCertPem } }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false
    })
    await host.libp2p.handle(FLOOD_PROTOCOL, async (stream) => {
      const chunk = new Uint8Array(64 * 1024).fill(7)
      try {
        for (;;) {
          if (!stream.send(chunk)) await stream.onDrain()
          // send() can keep saying yes while the muxer queues; let the socket work.
          await new Promise(resolve => setImmediate(resolve))
        }
      } catch {
        stream.abort(new Error('flood ended'))
      }
    })
    process.send?.({ address: host.addresses()[0] })
  })()
})
