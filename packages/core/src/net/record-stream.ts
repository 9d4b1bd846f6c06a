import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'
import { LayeredStream } from './layered-stream.ts'
import type { SendResult } from '@libp2p/utils'
import type { MessageStream, StreamMessageEvent } from '@libp2p/interface'
import type { KeyObject } from 'node:crypto'

/**
 * The record phase of an Aerie connection: AES-256-GCM records on the raw socket,
 * keyed from secrets exchanged inside the Noise channel (see record-keys.ts).
 *
 *   record: u32 length of what follows | ciphertext | 16-byte tag
 *
 * The 4-byte header is the AEAD's associated data, so a length cannot be altered.
 * Nonces are a per-direction 64-bit counter, so a record can be neither replayed,
 * reordered nor dropped without the next one failing to open.
 *
 * Speed comes from doing little per byte in JavaScript (README, "Transport speed"): the
 * key objects are made once, records are sealed from the muxer's buffers and opened from
 * the socket's buffers as they are, without joining them, and the sender seals one
 * record at a time as the socket takes them, so ciphertext never piles up in memory.
 */
export const MAX_RECORD_PLAINTEXT = 1024 * 1024
/** What the sender puts in one record: large enough to amortise the per-record work. */
const SEND_RECORD = 256 * 1024
const HEADER = 4
const TAG = 16
const CIPHER = 'aes-256-gcm'

export interface RecordKeys {
  send: Uint8Array
  receive: Uint8Array
}

class Nonce {
  private readonly bytes = new Uint8Array(12)
  private readonly view = new DataView(this.bytes.buffer)
  private counter = 0n

  next (): Uint8Array {
    // Wrapping would reuse a nonce; 2^64 records will not happen, but refuse rather than wrap.
    if (this.counter === 0xffffffffffffffffn) throw new ProtocolError('record counter exhausted; reconnect')
    this.view.setBigUint64(4, this.counter)
    this.counter++
    return this.bytes
  }
}

export class RecordStream extends LayeredStream {
  private readonly sendKey: KeyObject
  private readonly receiveKey: KeyObject
  private readonly sendNonce = new Nonce()
  private readonly receiveNonce = new Nonce()
  private readonly pending = new Uint8ArrayList()
  bytesIn = 0
  bytesOut = 0

  constructor (raw: MessageStream, keys: RecordKeys, initial: Uint8ArrayList) {
    super(raw, 'aerie-records')
    this.sendKey = createSecretKey(keys.send)
    this.receiveKey = createSecretKey(keys.receive)
    // AbstractMessageStream hands sendData at most this much at a time.
    this.maxMessageSize = SEND_RECORD
    if (initial.byteLength > 0) this.receive(initial)
    this.listen()
  }

  protected onRawMessage (evt: StreamMessageEvent): void { this.receive(evt.data) }

  private receive (data: Uint8Array | Uint8ArrayList): void {
    if (this.status !== 'open') return
    this.pending.append(data)
    try {
      while (this.pending.byteLength >= HEADER) {
        const length = this.pending.getUint32(0)
        if (length < TAG || length > MAX_RECORD_PLAINTEXT + TAG) throw new ProtocolError(`peer sent a record of impossible length ${length}`)
        if (this.pending.byteLength < HEADER + length) return
        const decipher = createDecipheriv(CIPHER, this.receiveKey, this.receiveNonce.next(), { authTagLength: TAG })
        decipher.setAAD(this.pending.subarray(0, HEADER))
        decipher.setAuthTag(this.pending.subarray(HEADER + length - TAG, HEADER + length))
        const plain = new Uint8ArrayList()
        for (const piece of this.pending.sublist(HEADER, HEADER + length - TAG)) plain.append(decipher.update(piece))
        this.pending.consume(HEADER + length)
        // Nothing of a record is delivered until its tag has been checked.
        decipher.final()
        this.bytesIn += HEADER + length
        this.onData(plain)
      }
    } catch (err) {
      const reason = err instanceof ProtocolError ? err : new ProtocolError('peer sent a record that does not authenticate', { cause: err })
      this.log.error('closing connection - %e', reason)
      this.abort(reason)
    }
  }

  sendData (data: Uint8ArrayList): SendResult {
    const header = new Uint8Array(HEADER)
    new DataView(header.buffer).setUint32(0, data.byteLength + TAG)
    const cipher = createCipheriv(CIPHER, this.sendKey, this.sendNonce.next(), { authTagLength: TAG })
    cipher.setAAD(header)
    const out = new Uint8ArrayList(header)
    // Seal the muxer's buffers as they are, without first joining them.
    for (const chunk of data) out.append(cipher.update(chunk))
    out.append(cipher.final(), cipher.getAuthTag())
    this.bytesOut += out.byteLength
    return { sentBytes: data.byteLength, canSendMore: this.raw.send(out) }
  }
}
