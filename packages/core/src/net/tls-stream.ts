import { once } from 'node:events'
import { Socket } from 'node:net'
import { connect, createSecureContext, TLSSocket } from 'node:tls'
import { AbstractMessageStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../errors.ts'
import type { SendResult } from '@libp2p/utils'
import type { AbortOptions, MessageStream } from '@libp2p/interface'
import type { SecureContext, TLSSocketOptions } from 'node:tls'

/**
 * The record phase of an Aerie connection as TLS 1.3, in OpenSSL, on the same TCP socket.
 *
 * After both SWITCH frames (handshake-framer.ts) the initiator is the TLS client, the
 * responder the TLS server. The only key is an external PSK derived from the secrets
 * exchanged inside Noise (record-keys.ts, deriveTlsPsk): fresh per connection, known only
 * to the two peers Noise and the certificate exchange authenticated. OpenSSL offers only
 * psk_dhe_ke, so the traffic keys also depend on a fresh (EC)DHE exchange. No certificate
 * is involved; a peer without the PSK fails the handshake (its Finished does not verify).
 *
 * Why: records sealed in JavaScript cost a JS Buffer per record and the GC of those
 * Buffers (README, "Transport speed"); TLSSocket seals and opens in C++.
 *
 * The hand-over from the libp2p MultiaddrConnection (`raw`, which owns the net.Socket) to
 * the TLSSocket must neither lose nor reorder a byte, and must keep libp2p's view of the
 * connection's lifecycle right. See `upgradeToTls`.
 */
const SUITE = 'TLS_AES_128_GCM_SHA256' // Node's PSK callback works in TLS 1.3 only with SHA-256 suites
const IDENTITY = 'aerie'
/** Buffers smaller than this are joined to their small neighbours (see TlsStream.sendData)... */
const SMALL_WRITE = 16 * 1024
/** ... into writes of up to this many bytes; as much is held for the rest of an event-loop turn. */
const JOINED_WRITE = 64 * 1024

let sharedContext: SecureContext | undefined
function secureContext (): SecureContext {
  sharedContext ??= createSecureContext({ ciphers: SUITE, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
  return sharedContext
}

/** The MultiaddrConnection's TCP socket (libp2p's TCP transport exposes it as `.socket`). */
export function socketOf (raw: MessageStream): Socket | undefined {
  const socket = (raw as Partial<{ socket: unknown }>).socket
  return socket instanceof Socket && !socket.destroyed ? socket : undefined
}

/** The internals of AbstractMultiaddrConnection that the hand-over touches. */
interface RawInternals {
  readBuffer: Uint8ArrayList
  sendClose(options?: AbortOptions): Promise<void>
  sendReset(err: Error): void
  sendData(data: Uint8ArrayList): SendResult
  sendPause(): void
  sendResume(): void
}

/**
 * Runs TLS 1.3 on `socket` and returns the stream the muxer runs on. Preconditions: our
 * SWITCH has been given to `raw.send`, the peer's SWITCH has been read, `raw` was paused
 * in the same turn (HandshakeFramer pauseOnSwitch) and nothing listens to its messages;
 * `rest` are the bytes that followed the peer's SWITCH in the chunk that carried it.
 */
export async function upgradeToTls (init: {
  raw: MessageStream
  socket: Socket
  rest: Uint8ArrayList
  psk: Uint8Array
  initiator: boolean
  options?: AbortOptions
}): Promise<TlsStream> {
  const { raw, socket, initiator, options } = init
  const internals = raw as unknown as RawInternals

  // 1. Our SWITCH (and every handshake byte) must be with libuv before OpenSSL writes: first
  //    out of the MultiaddrConnection's queue into the socket, then out of the socket's
  //    JS buffer. An empty write's callback runs once every earlier write has completed.
  if (raw.writeBufferLength > 0) await once(raw as unknown as EventTarget, 'idle', options)
  if (socket.writableLength > 0) {
    await new Promise<void>((resolve, reject) => { socket.write('', (err) => { if (err == null) resolve(); else reject(err) }) })
  }
  if (raw.writeBufferLength > 0 || socket.writableLength > 0) throw new ProtocolError('handshake bytes still queued at the switch to TLS')
  if (socket.destroyed) throw new ProtocolError('connection closed at the switch to TLS')

  // 2. Every byte already read past the peer's SWITCH goes back into the socket, in order:
  //    the rest of the SWITCH's chunk, then anything the MultiaddrConnection queued (none,
  //    since it was paused in that turn; taken for safety). Later bytes wait in the paused
  //    socket's own buffer, behind these. TLSSocket's first read (next tick, before any
  //    more I/O) feeds that whole buffer to OpenSSL, then OpenSSL reads the handle itself.
  const early = new Uint8ArrayList(init.rest)
  if (internals.readBuffer.byteLength > 0) {
    early.append(internals.readBuffer.sublist())
    internals.readBuffer.consume(internals.readBuffer.byteLength)
  }
  // The MultiaddrConnection must not see those bytes again (socket.read() emits 'data').
  socket.removeAllListeners('data')
  if (early.byteLength > 0) socket.unshift(early.subarray())

  // 3. TLS on the same socket.
  const psk = Buffer.from(init.psk)
  const tls = initiator
    ? connect({
      socket,
      secureContext: secureContext(),
      pskCallback: () => ({ psk, identity: IDENTITY }),
      checkServerIdentity: () => undefined
    })
    : new TLSSocket(socket, {
      isServer: true,
      secureContext: secureContext(),
      // Honoured by TLSSocket (lib/internal/tls/wrap.js, _init), missing from its types.
      pskCallback: (_socket: TLSSocket, identity: string) => identity === IDENTITY ? psk : null
    } as TLSSocketOptions)

  // 4. From now on closing or resetting the MultiaddrConnection (what libp2p's Connection
  //    does) goes through TLS; libp2p learns of the end from the socket's 'close', which
  //    the MultiaddrConnection still follows (a closed TLSSocket destroys the socket, and
  //    a closed socket destroys the TLSSocket).
  //    Bytes the muxer gave the TlsStream (once it exists) go out before the close_notify.
  const upgraded: { stream?: TlsStream } = {}
  internals.sendClose = async (closeOptions) => {
    if (socket.closed) return
    await upgraded.stream?.flushed(closeOptions)
    const closed = once(socket, 'close', closeOptions)
    // close_notify and FIN after every queued byte, then wait for the peer's end: a socket
    // destroyed at once would answer the peer's next bytes (a window update) with a reset,
    // and the peer's kernel would then drop what it had received and not yet handed over.
    if (!tls.destroyed) tls.end()
    else socket.destroy()
    try {
      await closed
    } catch (err) {
      socket.destroy()
      throw err
    }
  }
  internals.sendReset = () => {
    // As @libp2p/tcp: no RST once a FIN is on its way (uv_shutdown and uv_tcp_close_reset
    // do not mix); otherwise an RST. Destroying the socket destroys the TLSSocket.
    if (tls.writableEnded || socket.writableEnded) { tls.destroy(); socket.destroy(); return }
    try { socket.resetAndDestroy() } catch { socket.destroy() }
  }
  internals.sendData = () => { throw new ProtocolError('the raw socket belongs to TLS now') }
  internals.sendPause = () => { tls.pause() }
  internals.sendResume = () => { tls.resume() }

  try {
    await handshake(tls, initiator, options)
  } catch (err) {
    tls.destroy()
    throw err
  }
  upgraded.stream = new TlsStream(raw, tls)
  return upgraded.stream
}

async function handshake (tls: TLSSocket, initiator: boolean, options?: AbortOptions): Promise<void> {
  const done = initiator ? 'secureConnect' : 'secure'
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      tls.off(done, onDone)
      tls.off('error', onError)
      tls.off('close', onClose)
      options?.signal?.removeEventListener('abort', onAbort)
    }
    const onDone = (): void => { cleanup(); resolve() }
    const onError = (err: Error): void => { cleanup(); reject(new ProtocolError(`TLS handshake failed: ${err.message}`, { cause: err })) }
    const onClose = (): void => { cleanup(); reject(new ProtocolError('connection closed during the TLS handshake')) }
    const onAbort = (): void => { cleanup(); reject(options?.signal?.reason ?? new Error('TLS handshake aborted')) }
    if (options?.signal?.aborted === true) { onAbort(); return }
    tls.once(done, onDone)
    tls.once('error', onError)
    tls.once('close', onClose)
    options?.signal?.addEventListener('abort', onAbort, { once: true })
  })
  const cipher = tls.getCipher()
  if (tls.getProtocol() !== 'TLSv1.3' || cipher.standardName !== SUITE) {
    throw new ProtocolError(`TLS negotiated ${tls.getProtocol() ?? 'nothing'} ${cipher.standardName}`)
  }
}

/**
 * The muxer's view of the connection once TLS runs: bytes in and out of the TLSSocket,
 * with its backpressure, half-close and close.
 */
export class TlsStream extends AbstractMessageStream {
  private readonly raw: MessageStream
  private readonly tls: TLSSocket
  private error: Error | undefined
  private readonly incoming = new Uint8ArrayList()
  private flushScheduled = false
  /**
   * Bytes the muxer handed over that TLS has not taken yet, written one at a time (see
   * sendData); `queueHead` is the next to go.
   */
  private queue: Uint8Array[] = []
  private queueHead = 0
  private queuedBytes = 0
  /** A pump waits for the end of this turn of the event loop, to join what else is sent in it. */
  private pumpScheduled = false
  /** A TLS write is pending: the queue waits for its completion. */
  private writing = false
  /**
   * sendData said it holds bytes back: 'drain' is due once the queue is empty. Always set
   * while the queue holds anything (only sendData fills it), so 'drain' also tells flushed().
   */
  private drainDue = false

  private readonly onWritten = (): void => {
    if (!this.writing || this.tls.writableLength > 0) return
    this.writing = false
    this.pump()
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false
    this.pump()
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    if (this.incoming.byteLength === 0) return
    const data = this.incoming.sublist()
    this.incoming.consume(data.byteLength)
    this.onData(data)
  }

  constructor (raw: MessageStream, tls: TLSSocket) {
    super({
      log: raw.log.newScope('aerie-tls'),
      direction: raw.direction,
      inactivityTimeout: raw.inactivityTimeout,
      maxReadBufferLength: raw.maxReadBufferLength
    })
    this.raw = raw
    this.tls = tls
    // Data TLS decrypted before this listener existed waited in the TLSSocket's buffer.
    // TLS hands data over one 16 KiB record at a time; the muxer gets what arrived in one
    // turn of the event loop as one message (measured: ≈ -0.5 CPU-s/GiB on the receiver).
    tls.on('data', (buf: Buffer) => {
      this.incoming.append(buf)
      if (this.flushScheduled) return
      this.flushScheduled = true
      setImmediate(this.flush)
    })
    // Every end of the stream delivers what arrived before it first.
    tls.on('end', () => { this.flush(); this.onRemoteCloseWrite() })
    tls.on('error', (err: Error) => {
      this.log.error('tls error - %e', err)
      this.error = err
    })
    tls.on('close', () => {
      this.flush()
      if (this.error != null) this.abort(this.error)
      else this.onTransportClosed()
    })
    if (tls.destroyed) queueMicrotask(() => { this.onTransportClosed() })
  }

  sendData (data: Uint8ArrayList): SendResult {
    // Everything is taken into our own queue: handing back what was not written cost libp2p a
    // slice, a copy and a put-back of its whole queue each time (with 24 KiB messages, cost
    // that grew with the backlog). The queue is written one write at a time, as a plain TLS
    // sender would (writes queued behind a pending one would leave as a writev that TLSWrap
    // first copies into one buffer); large buffers go as they came, small ones in a row are
    // joined. Small messages wait for the end of the event loop's turn, so that what one turn
    // sends (a pull's chunk requests, small files' answers) costs a few system calls, not one
    // each. Measurements: docs/status.md, Authenticated links.
    for (const buf of data) {
      this.queue.push(buf)
      this.queuedBytes += buf.byteLength
    }
    if (!this.writing && this.queuedBytes < JOINED_WRITE) {
      if (!this.pumpScheduled) setImmediate(this.scheduledPump)
      this.pumpScheduled = true
      return { sentBytes: data.byteLength, canSendMore: true }
    }
    this.pump()
    // While bytes wait here the muxer holds its streams' bytes (until 'drain'): the queue
    // holds at most what one call hands over, and a stream's close waits for its bytes.
    const canSendMore = this.queue.length === 0
    if (!canSendMore) this.drainDue = true
    return { sentBytes: data.byteLength, canSendMore }
  }

  /** Writes from the queue until a write is left pending or the queue is empty. */
  private pump (): void {
    // Bounded: each turn takes at least one buffer off the queue.
    while (!this.writing && this.queueHead < this.queue.length) {
      const going = this.nextWrite()
      if (this.tls.destroyed) continue // the stream's close or abort follows; nothing more goes out
      this.tls.write(going, this.onWritten)
      if (this.tls.writableLength > 0) this.writing = true
    }
    if (this.queueHead === this.queue.length || this.queueHead > 4096) {
      this.queue = this.queue.slice(this.queueHead)
      this.queueHead = 0
    }
    if (this.drainDue && this.queue.length === 0) {
      this.drainDue = false
      this.safeDispatchEvent('drain')
    }
  }

  /** The queue's next write: small buffers in a row joined (up to JOINED_WRITE), else one buffer as it came. */
  private nextWrite (): Uint8Array {
    let end = this.queueHead
    let bytes = 0
    while (end < this.queue.length && this.queue[end]!.byteLength < SMALL_WRITE && bytes < JOINED_WRITE) bytes += this.queue[end++]!.byteLength
    const going = end > this.queueHead ? joined(this.queue.slice(this.queueHead, end)) : this.queue[end++]!
    this.queueHead = end
    this.queuedBytes -= going.byteLength
    return going
  }

  /** Resolves once TLS has taken every byte the muxer handed over (the queue keeps some back). */
  async flushed (options?: AbortOptions): Promise<void> {
    if (this.writeBufferLength > 0 && this.status === 'open') await Promise.race([once(this, 'idle', options), once(this, 'close', options)])
    if (this.queue.length === 0 || this.tls.destroyed) return
    this.drainDue = true
    await Promise.race([once(this, 'drain', options), once(this.tls, 'close', options)])
  }

  sendReset (err: Error): void { this.raw.abort(err) }
  sendPause (): void { this.tls.pause() }
  sendResume (): void { this.tls.resume() }
  // The raw connection's close (sendClose, set in upgradeToTls) waits for flushed() first.
  async close (options?: AbortOptions): Promise<void> { await this.raw.close(options) }
}

function joined (buffers: Uint8Array[]): Uint8Array {
  return buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers)
}
