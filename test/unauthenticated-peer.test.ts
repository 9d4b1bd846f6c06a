import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { AERIE_ENCRYPTER_PROTOCOL, CRL_PROTOCOL } from '@aerie/core'
import { HandshakeFramer } from '../packages/core/src/net/handshake-framer.ts'
import { Lab, waitFor } from './support/agents.ts'
import type { Device } from './support/agents.ts'
import type { NoiseComponents } from '@chainsafe/libp2p-noise'
import type { ConnectionEncrypter, Libp2p, MessageStream } from '@libp2p/interface'

/**
 * A rogue that speaks Aerie's encrypter protocol and completes Noise, but then skips
 * the certificate exchange and tries to open streams. The agent must serve it nothing.
 */
function skipAuthentication (components: NoiseComponents): ConnectionEncrypter {
  const inner = noise()(components)
  return {
    protocol: AERIE_ENCRYPTER_PROTOCOL,
    async secureOutbound (raw: MessageStream) {
      const framer = new HandshakeFramer(raw)
      const secured = await inner.secureOutbound(framer, { skipStreamMuxerNegotiation: true })
      framer.sendSwitch()
      framer.detach()
      return { connection: raw, remotePeer: secured.remotePeer, streamMuxer: components.upgrader.getStreamMuxers().get('/yamux/1.0.0') }
    },
    async secureInbound () { throw new Error('rogue only dials') }
  }
}

async function rogueNode (encrypter: (components: NoiseComponents) => ConnectionEncrypter): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: await generateKeyPair('RSA', 2048),
    transports: [tcp()],
    connectionEncrypters: [encrypter],
    streamMuxers: [yamux()]
  })
}

describe('a peer that skipped authentication', () => {
  const lab = new Lab()
  let alice: Device

  beforeAll(async () => { alice = await lab.caHolder('alice') })
  afterAll(async () => { await lab.stopAll() })

  it('cannot open any protocol after Noise without a certificate', async () => {
    const rogue = await rogueNode(skipAuthentication)
    try {
      const address = multiaddr(await alice.address())
      const opened = await rogue.dialProtocol(address, CRL_PROTOCOL, { signal: AbortSignal.timeout(8_000) })
        .then(() => true, () => false)
      expect(opened).toBe(false)
      await waitFor(() => /refused connection with/.test(alice.log), 'alice to log the refused handshake')
      expect((await alice.status()).peers).toEqual([])
    } finally {
      await rogue.stop()
    }
  })

  it('cannot talk to an agent with plain libp2p Noise either', async () => {
    const rogue = await rogueNode(noise())
    try {
      const opened = await rogue.dialProtocol(multiaddr(await alice.address()), CRL_PROTOCOL, { signal: AbortSignal.timeout(8_000) })
        .then(() => true, () => false)
      expect(opened).toBe(false)
      expect((await alice.status()).peers).toEqual([])
    } finally {
      await rogue.stop()
    }
  })
})
