import { randomBytes } from 'node:crypto'
import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/errors.ts'
import { messageChannel } from '../../src/protocol/message-channel.ts'

// Length-prefixed messages between two libp2p streams: every size arrives whole and in order
// (lengths of one to four bytes, written one by one or several in one write), and a peer's
// length prefix that never ends is refused instead of read forever.
describe('message channel', () => {
  it('delivers messages of every length prefix size, in order, written alone or together', async () => {
    const [a, b] = await streamPair()
    const out = messageChannel(a, 4 * 1024 * 1024)
    const into = messageChannel(b, 4 * 1024 * 1024)
    const sizes = [0, 1, 127, 128, 16_383, 16_384, 70_000, 2_097_151, 2_097_152, 3 * 1024 * 1024]
    const messages = sizes.map(size => randomBytes(size))
    for (const message of messages.slice(0, 5)) await out.write(message)
    await out.writeMany(messages.slice(5))
    for (const message of messages) expect(Buffer.from((await into.read())!).equals(message)).toBe(true)
    expect(into.bytesIn).toBe(sizes.reduce((a, b) => a + b, 0))
  })

  it('refuses a length prefix longer than the largest message needs', async () => {
    const [a, b] = await streamPair()
    const into = messageChannel(b, 1024 * 1024)
    a.send(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]))
    await expect(into.read()).rejects.toThrow(ProtocolError)
  })
})
