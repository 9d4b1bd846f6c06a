import { CHUNK_OK, CHUNK_PROTOCOL, CHUNK_REFUSED, encodeChunkRequest, MAX_CHUNK_REQUEST_MESSAGE, MAX_CHUNK_RESPONSE, messageChannel } from '../protocol/index.ts'
import { ProtocolError } from '../errors.ts'
import { ownBytes } from '../util/release-bytes.ts'
import type { MessageChannel } from '../protocol/index.ts'
import type { TokenBucket } from '../util/token-bucket.ts'
import type { Connection } from '@libp2p/interface'

/**
 * Chunk requests to one peer, pipelined on one stream: requests go out as they come and
 * the answers come back in the same order. The caller verifies each chunk's hash.
 */
export interface ChunkClient {
  /** The chunk's bytes (the caller's own: nothing else holds them), or undefined when the peer does not have it. */
  request(folder: string, hash: Uint8Array, size: number): Promise<Uint8Array | undefined>
  readonly bytesIn: number
  close(): Promise<void>
}

interface Pending {
  size: number
  resolve(bytes: Uint8Array | undefined): void
  reject(err: Error): void
}

/** `download`, the download limit shared by every chunk stream, slows reading answers (and so, by flow control, the sender). */
export function createChunkClient (connection: Connection, onBytesIn?: (bytes: number) => void, download?: TokenBucket): ChunkClient {
  let channel: Promise<MessageChannel> | undefined
  let pending: Pending[] = []
  let bytesIn = 0

  function fail (err: Error): void {
    const failed = pending
    pending = []
    channel = undefined
    for (const p of failed) p.reject(err)
  }

  async function open (): Promise<MessageChannel> {
    // No signal: libp2p would keep it on the stream, and a timeout would cut a long-lived stream.
    const stream = await connection.newStream(CHUNK_PROTOCOL)
    const opened = messageChannel(stream, MAX_CHUNK_RESPONSE, MAX_CHUNK_REQUEST_MESSAGE)
    void readAnswers(opened)
    return opened
  }

  async function readAnswers (opened: MessageChannel): Promise<void> {
    try {
      while (true) {
        // As the parts it arrived in: the chunk is copied out once, without the status byte, into
        // memory of its own (ownBytes) that the puller frees once written (releaseBytes).
        const frame = await opened.readParts()
        if (frame === undefined) throw new ProtocolError('the peer closed the chunk stream')
        if (frame.byteLength === 0) throw new ProtocolError('the peer sent an empty chunk answer')
        const waiting = pending.shift()
        if (waiting === undefined) throw new ProtocolError('the peer sent a chunk nobody asked for')
        bytesIn += frame.byteLength
        onBytesIn?.(frame.byteLength)
        await download?.take(frame.byteLength)
        const status = frame.get(0)
        if (status === CHUNK_OK) {
          if (frame.byteLength - 1 !== waiting.size) {
            // This request is no longer pending, so fail() below would not reach it.
            const err = new ProtocolError(`the peer sent ${frame.byteLength - 1} bytes for a ${waiting.size}-byte chunk`)
            waiting.reject(err)
            throw err
          }
          waiting.resolve(ownBytes(frame.subarray(1)))
        } else if (status === CHUNK_REFUSED) {
          waiting.reject(new ProtocolError('the peer refused the chunk request: this device is not a member of the folder there'))
        } else {
          waiting.resolve(undefined)
        }
      }
    } catch (err) {
      opened.stream.abort(err as Error)
      fail(err as Error)
    }
  }

  // Requests made in one turn of the event loop go out in one write (see writeJsonMany).
  let batch: Array<{ message: unknown, sent: () => void, failed: (err: Error) => void }> = []
  function send (message: unknown): Promise<void> {
    return new Promise((resolve, reject) => {
      batch.push({ message, sent: resolve, failed: reject })
      if (batch.length > 1) return
      setImmediate(() => {
        const going = batch
        batch = []
        channel ??= open()
        const current = channel
        current
          .then(async opened => { await opened.writeJsonMany(going.map(b => b.message)) })
          .then(() => { for (const b of going) b.sent() }, (err: Error) => {
            if (channel === current) fail(err)
            for (const b of going) b.failed(err)
          })
      })
    })
  }

  return {
    get bytesIn () { return bytesIn },
    async request (folder, hash, size) {
      const answer = new Promise<Uint8Array | undefined>((resolve, reject) => { pending.push({ size, resolve, reject }) })
      answer.catch(() => {}) // when the write fails, its error is the one thrown
      await send(encodeChunkRequest({ folder, hash, size }))
      return await answer
    },
    async close () {
      const current = channel
      channel = undefined
      if (current !== undefined) await (await current).stream.close().catch(() => {})
    }
  }
}
