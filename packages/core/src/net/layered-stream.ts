import { AbstractMessageStream } from '@libp2p/utils'
import type { AbortOptions, MessageStream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

/**
 * A message stream layered on the raw socket (the handshake framer, the record layer):
 * it follows the socket's lifecycle (close, reset, drain, half-close) and passes pause,
 * resume, reset and close down to it. Subclasses only transform the bytes.
 */
export abstract class LayeredStream extends AbstractMessageStream {
  protected readonly raw: MessageStream
  private attached = true

  constructor (raw: MessageStream, scope: string) {
    super({
      log: raw.log.newScope(scope),
      direction: raw.direction,
      inactivityTimeout: raw.inactivityTimeout,
      maxReadBufferLength: raw.maxReadBufferLength
    })
    this.raw = raw
    raw.addEventListener('close', this.onRawClose)
    raw.addEventListener('drain', this.onRawDrain)
    raw.addEventListener('remoteCloseWrite', this.onRawRemoteCloseWrite)
  }

  /** Bytes that arrived on the raw socket. */
  protected abstract onRawMessage (evt: StreamMessageEvent): void

  /** Starts reading the raw socket (after the subclass is ready). */
  protected listen (): void {
    this.raw.addEventListener('message', this.rawMessageListener)
  }

  /** Stops following the raw socket: it belongs to another layer now (or is dead). */
  detach (): void {
    if (!this.attached) return
    this.attached = false
    this.raw.removeEventListener('message', this.rawMessageListener)
    this.raw.removeEventListener('close', this.onRawClose)
    this.raw.removeEventListener('drain', this.onRawDrain)
    this.raw.removeEventListener('remoteCloseWrite', this.onRawRemoteCloseWrite)
  }

  /** Hook for subclasses that must learn of the close before the stream events fire. */
  protected onRawClosing (_evt: StreamCloseEvent): void {}

  private readonly rawMessageListener = (evt: StreamMessageEvent): void => { this.onRawMessage(evt) }

  private readonly onRawClose = (evt: StreamCloseEvent): void => {
    this.onRawClosing(evt)
    if (evt.error != null) {
      if (evt.local === true) this.abort(evt.error)
      else this.onRemoteReset()
    } else {
      this.onTransportClosed()
    }
  }

  private readonly onRawDrain = (): void => { this.safeDispatchEvent('drain') }
  private readonly onRawRemoteCloseWrite = (): void => { this.onRemoteCloseWrite() }

  sendReset (err: Error): void { this.raw.abort(err) }
  sendPause (): void { this.raw.pause() }
  sendResume (): void { this.raw.resume() }
  async close (options?: AbortOptions): Promise<void> { await this.raw.close(options) }
}
