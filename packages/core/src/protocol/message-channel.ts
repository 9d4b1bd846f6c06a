import { lpStream } from '@libp2p/utils'
import { ProtocolError } from '../errors.ts'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Length-prefixed messages on a libp2p stream: a peer that sends one over `maxIn` bytes is
 * cut off before it is buffered; we never send one over `maxOut`. `bytesIn`/`bytesOut` count payload bytes, for
 * the per-peer counters in status.
 */
export interface MessageChannel {
  readonly stream: Stream
  readonly bytesIn: number
  readonly bytesOut: number
  /** The next message, or undefined when the peer closed the stream cleanly. */
  read(options?: AbortOptions): Promise<Uint8Array | undefined>
  /**
   * read() without joining the message: the parts it arrived in. A reader that wants only
   * part of it copies only that, into memory of its own (`subarray(from)` of several parts).
   */
  readParts(options?: AbortOptions): Promise<Uint8ArrayList | undefined>
  /** A list is written as one message, without joining its parts. */
  write(message: Uint8Array | Uint8ArrayList, options?: AbortOptions): Promise<void>
  /** Several messages in one write: one muxer frame and one TLS record instead of one each. */
  writeMany(messages: ReadonlyArray<Uint8Array | Uint8ArrayList>, options?: AbortOptions): Promise<void>
  readJson(options?: AbortOptions): Promise<unknown>
  writeJson(message: unknown, options?: AbortOptions): Promise<void>
  /** writeMany for JSON messages. */
  writeJsonMany(messages: readonly unknown[], options?: AbortOptions): Promise<void>
}

export function messageChannel (stream: Stream, maxIn: number, maxOut: number = maxIn): MessageChannel {
  // What the peer may send before we read is bounded by the muxer's stream window (yamux
  // grows it up to 16 MiB on a fast link), not by this buffer: it must hold a full window, or
  // a busy moment on our side would reset a healthy stream (libp2p's default is 4 MiB).
  const lp = lpStream(stream, { maxDataLength: maxIn, maxBufferSize: MAX_STREAM_WINDOW + 2 * maxIn + 65_536, lengthDecoder: lengthDecoder(maxIn) })
  let bytesIn = 0
  let bytesOut = 0
  /** Checks a message against our own limit and counts it. */
  function outgoing<T extends Uint8Array | Uint8ArrayList> (message: T): T {
    if (message.byteLength > maxOut) throw new ProtocolError(`a message of ${message.byteLength} bytes is over the ${maxOut}-byte limit`)
    bytesOut += message.byteLength
    return message
  }
  const channel: MessageChannel = {
    stream,
    get bytesIn () { return bytesIn },
    get bytesOut () { return bytesOut },
    async read (options) {
      return (await channel.readParts(options))?.subarray()
    },
    async readParts (options) {
      let message
      try {
        message = await lp.read(options)
      } catch (err) {
        const name = (err as Error).name
        // The peer closed its side: between messages that is the normal end of the exchange.
        if (name === 'UnexpectedEOFError') return undefined
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') throw new ProtocolError(`the peer sent a message over the ${maxIn}-byte limit`)
        throw err
      }
      bytesIn += message.byteLength
      return message
    },
    async write (message, options) {
      await lp.write(outgoing(message), options)
    },
    async writeMany (messages, options) {
      await lp.writeV(messages.map(outgoing), options)
    },
    async readJson (options) {
      const message = await channel.read(options)
      if (message === undefined) return undefined
      try {
        return JSON.parse(decoder.decode(message))
      } catch {
        throw new ProtocolError('the peer sent a message that is not JSON')
      }
    },
    async writeJson (message, options) {
      await channel.write(encoder.encode(JSON.stringify(message)), options)
    },
    async writeJsonMany (messages, options) {
      await channel.writeMany(messages.map(message => encoder.encode(JSON.stringify(message))), options)
    }
  }
  return channel
}

/**
 * The varint length before each message, for lpStream, which reads it a byte at a time and asks
 * again while the decoder throws a RangeError. Its default decoder builds a new error (and stack
 * trace) for each missing byte, twice for every message over 16 KiB: about a tenth of a
 * restore's CPU. This one throws one prepared error, and refuses a length longer than `maxIn` needs.
 */
function lengthDecoder (maxIn: number): (data: Iterable<Uint8Array>) => number {
  let maxBytes = 1
  while (maxIn >= 2 ** (7 * maxBytes)) maxBytes++
  return data => {
    let value = 0
    let at = 0
    for (const buf of data) {
      for (const byte of buf) {
        if (at === maxBytes) throw new ProtocolError(`the peer sent a message length over ${maxBytes} bytes`)
        value += (byte & 0x7f) * 2 ** (7 * at++)
        if (byte < 0x80) return value
      }
    }
    throw INCOMPLETE_LENGTH
  }
}
const INCOMPLETE_LENGTH = new RangeError('the message length has not all arrived yet')

/** @chainsafe/libp2p-yamux's maxStreamWindowSize (its default). */
const MAX_STREAM_WINDOW = 16 * 1024 * 1024
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
