import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'
import { LayeredStream } from './layered-stream.ts'
import type { SendResult } from '@libp2p/utils'
import type { AbortOptions, MessageStream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

/**
 * The handshake phase of an Aerie connection, framed on the raw socket so that the
 * end of the phase is visible in the byte stream itself:
 *
 *   HANDSHAKE frame: 0x01, u16 length, bytes   (Noise handshake and Noise-encrypted
 *                                              certificate exchange travel in these)
 *   SWITCH frame:    0x02                      (the sender writes only records after it)
 *
 * Noise runs on top of this stream. When the peer's SWITCH arrives the framer stops
 * reading at once, so not one byte of the record phase is fed to Noise, and hands the
 * bytes that followed the SWITCH to whoever reads the record phase.
 */
const HANDSHAKE = 0x01
const SWITCH = 0x02
const MAX_FRAME = 0xffff
/** No honest handshake comes close; a peer that sends more is cut off. */
const MAX_HANDSHAKE_BYTES = 256 * 1024

export class HandshakeFramer extends LayeredStream {
  private readonly pending = new Uint8ArrayList()
  private received = 0
  private readonly switched = Promise.withResolvers<Uint8ArrayList>()

  constructor (raw: MessageStream) {
    super(raw, 'aerie-handshake')
    // A rejection nobody awaits (the handshake failed before the switch) is not an error.
    this.switched.promise.catch(() => {})
    this.listen()
  }

  /** Resolves with the bytes that followed the peer's SWITCH frame. */
  peerSwitched (options?: AbortOptions): Promise<Uint8ArrayList> {
    if (options?.signal == null) return this.switched.promise
    const signal = options.signal
    return new Promise((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason ?? new Error('handshake aborted')) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      this.switched.promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  /** Tell the peer that everything we write from now on is a record. */
  sendSwitch (): void {
    this.raw.send(Uint8Array.of(SWITCH))
  }

  protected onRawMessage (evt: StreamMessageEvent): void {
    this.received += evt.data.byteLength
    if (this.received > MAX_HANDSHAKE_BYTES) {
      this.fail(new ProtocolError('peer sent an oversized handshake'))
      return
    }
    this.pending.append(evt.data)
    try {
      while (this.pending.byteLength > 0) {
        const type = this.pending.get(0)
        if (type === SWITCH) {
          this.pending.consume(1)
          // Detach before resolving: what follows belongs to the record layer.
          this.detach()
          const rest = new Uint8ArrayList(this.pending)
          this.pending.consume(this.pending.byteLength)
          this.switched.resolve(rest)
          return
        }
        if (type !== HANDSHAKE) throw new ProtocolError(`unexpected handshake frame type ${type}`)
        if (this.pending.byteLength < 3) return
        const length = this.pending.getUint16(1)
        if (this.pending.byteLength < 3 + length) return
        const frame = this.pending.sublist(3, 3 + length)
        this.pending.consume(3 + length)
        this.onData(frame)
      }
    } catch (err) {
      this.fail(err as Error)
    }
  }

  protected override onRawClosing (evt: StreamCloseEvent): void {
    this.switched.reject(evt.error ?? new ProtocolError('connection closed during the handshake'))
  }

  private fail (err: Error): void {
    this.switched.reject(err)
    this.detach()
    this.abort(err)
    this.raw.abort(err)
  }

  sendData (data: Uint8ArrayList): SendResult {
    const out = new Uint8ArrayList()
    for (let offset = 0; offset < data.byteLength; offset += MAX_FRAME) {
      const frame = data.sublist(offset, Math.min(offset + MAX_FRAME, data.byteLength))
      const header = new Uint8Array(3)
      header[0] = HANDSHAKE
      new DataView(header.buffer).setUint16(1, frame.byteLength)
      out.append(header, frame)
    }
    return { sentBytes: data.byteLength, canSendMore: this.raw.send(out) }
  }

}
