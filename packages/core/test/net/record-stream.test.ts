import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { RecordStream } from '../../src/net/record-stream.ts'
import { deriveRecordKeys, newKeyShare } from '../../src/net/record-keys.ts'
import type { MessageStream } from '@libp2p/interface'

// The record layer is what every byte between two devices travels in: it must deliver
// exactly what was sent, and refuse anything altered, replayed or absurd.
function keyPair (): { initiator: ReturnType<typeof deriveRecordKeys>, responder: ReturnType<typeof deriveRecordKeys> } {
  const init = { initiatorShare: newKeyShare(), responderShare: newKeyShare(), initiatorPeer: 'A', responderPeer: 'B' }
  return { initiator: deriveRecordKeys({ ...init, weAreInitiator: true }), responder: deriveRecordKeys({ ...init, weAreInitiator: false }) }
}

/** Captures the ciphertext an initiator-side RecordStream writes. */
async function sealed (keys: ReturnType<typeof keyPair>, ...messages: Uint8Array[]): Promise<Uint8ArrayList> {
  const [a, b] = multiaddrConnectionPair()
  const wire = new Uint8ArrayList()
  b.addEventListener('message', (evt) => { wire.append(evt.data) })
  const sender = new RecordStream(a, keys.initiator, new Uint8ArrayList())
  for (const m of messages) sender.send(m)
  const expected = messages.reduce((n, m) => n + m.byteLength, 0)
  // Until every record is captured: at least the plaintext, and no more for a while (the
  // record overheads can reach the plaintext's length before the last record arrives).
  let seen = -1
  for (let i = 0; i < 200 && (wire.byteLength < expected || wire.byteLength !== seen); i++) {
    seen = wire.byteLength
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return wire
}

/** Opens `wire` as the responder would; returns what it delivered and its final status. */
async function open (keys: ReturnType<typeof keyPair>, wire: Uint8ArrayList): Promise<{ data: Uint8Array, status: MessageStream['status'] }> {
  const [c] = multiaddrConnectionPair()
  const received = new Uint8ArrayList()
  const receiver = new RecordStream(c, keys.responder, new Uint8ArrayList())
  receiver.addEventListener('message', (evt) => { received.append(evt.data) })
  receiver['receive'](wire)
  await new Promise(resolve => setTimeout(resolve, 10))
  return { data: received.subarray(), status: receiver.status }
}

describe('record stream', () => {
  it('delivers exactly the bytes sent, across records larger and smaller than the maximum', async () => {
    const keys = keyPair()
    const big = randomBytes(2.5 * 1024 * 1024)
    const small = randomBytes(17)
    const { data, status } = await open(keys, await sealed(keys, big, small))
    expect(status).toBe('open')
    expect(Buffer.from(data).equals(Buffer.concat([big, small]))).toBe(true)
  })

  it('refuses a record with one flipped bit and delivers nothing of it', async () => {
    const keys = keyPair()
    const wire = (await sealed(keys, randomBytes(1000))).subarray()
    wire[500] = (wire[500] as number) ^ 0x01
    const { data, status } = await open(keys, new Uint8ArrayList(wire))
    expect(data.byteLength).toBe(0)
    expect(status).toBe('aborted')
  })

  it('refuses a replayed record', async () => {
    const keys = keyPair()
    const record = (await sealed(keys, randomBytes(100))).subarray()
    const { data, status } = await open(keys, new Uint8ArrayList(record, record))
    expect(data.byteLength).toBe(100)
    expect(status).toBe('aborted')
  })

  it('refuses an impossible length before buffering it', async () => {
    const keys = keyPair()
    const header = new Uint8Array(4)
    new DataView(header.buffer).setUint32(0, 0xffffffff)
    const { status } = await open(keys, new Uint8ArrayList(header))
    expect(status).toBe('aborted')
  })

  it('does not open records sealed for the other direction', async () => {
    const keys = keyPair()
    const wire = await sealed(keys, randomBytes(64))
    const swapped = { initiator: keys.initiator, responder: { send: keys.responder.send, receive: keys.responder.send } }
    expect((await open(swapped, wire)).status).toBe('aborted')
  })
})
