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
 *   SWITCH_TLS:      0x03                      (the same, and the sender can do TLS 1.3:
 *                                              if both sides sent it, TLS replaces records)
 *
 * Noise runs on top of this stream. When the peer's SWITCH arrives the framer stops
 * reading at once, so not one byte of the record phase is fed to Noise, and hands the
 * bytes that followed the SWITCH to whoever reads the record phase.
 */
const HANDSHAKE = 0x01
const SWITCH = 0x02
const SWITCH_TLS = 0x03
const MAX_FRAME = 0xffff
/** No honest handshake comes close; a peer that sends more is cut off. */
const MAX_HANDSHAKE_BYTES = 256 * 1024

/** What the peer's SWITCH said, and the bytes that followed it. */
export interface PeerSwitch {
  /** The peer sent SWITCH_TLS. */
  tls: boolean
  rest: Uint8ArrayList
}

export interface HandshakeFramerInit {
  /**
   * Pause the raw stream in the same turn as the peer's SWITCH is seen, so that no later
   * byte is delivered to anyone until the next layer takes over (see tls-stream.ts).
   */
  pauseOnSwitch?: boolean
}

export class HandshakeFramer extends LayeredStream {
  private readonly pending = new Uint8ArrayList()
  private received = 0
  private readonly switched = Promise.withResolvers<PeerSwitch>()
  private readonly pauseOnSwitch: boolean

  constructor (raw: MessageStream, init: HandshakeFramerInit = {}) {
    super(raw, 'aerie-handshake')
    this.pauseOnSwitch = init.pauseOnSwitch === true
    // A rejection nobody awaits (the handshake failed before the switch) is not an error.
    this.switched.promise.catch(() => {})
    this.listen()
  }

  /** Resolves with the peer's SWITCH and the bytes that followed it. */
  peerSwitched (options?: AbortOptions): Promise<PeerSwitch> {
    if (options?.signal == null) return this.switched.promise
    const signal = options.signal
    return new Promise((resolve, reject) => {
      const onAbort = (): void => { reject(signal.reason ?? new Error('handshake aborted')) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      this.switched.promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
    })
  }

  /**
   * Tell the peer that everything we write from now on is a record; with `tls`, that we
   * can do TLS 1.3 instead (used only if the peer says so too).
   */
  sendSwitch (tls = false): void {
    this.raw.send(Uint8Array.of(tls ? SWITCH_TLS : SWITCH))
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
        if (type === SWITCH || type === SWITCH_TLS) {
          this.pending.consume(1)
          // Pause and detach before resolving: what follows belongs to the next layer.
          if (this.pauseOnSwitch) this.raw.pause()
          this.detach()
          const rest = new Uint8ArrayList(this.pending)
          this.pending.consume(this.pending.byteLength)
          this.switched.resolve({ tls: type === SWITCH_TLS, rest })
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
