import { encodeIndexMessage, INDEX_BATCH, INDEX_PROTOCOL, MAX_INDEX_MESSAGE, messageChannel } from '../protocol/index.ts'
import { createChunkClient } from './chunk-client.ts'
import type { FolderIndex } from '../index/index.ts'
import type { FolderMessage, MessageChannel } from '../protocol/index.ts'
import type { ChunkClient } from './chunk-client.ts'
import type { Connection } from '@libp2p/interface'
import type { TokenBucket } from '../util/token-bucket.ts'

/** Bytes exchanged with one device while this agent runs (index messages and chunks). */
export interface PeerCounters { bytesIn: number, bytesOut: number }

/**
 * One connected device as the sync engine sees it: the stream we send our index on, where
 * each shared folder's announcements have got to, what the device announced to us, and the
 * chunk client for pulling from it.
 */
export class PeerLink {
  readonly deviceId: string
  readonly connection: Connection
  readonly chunks: ChunkClient
  readonly counters: PeerCounters
  /** Per folder: the peer's sequence as of its last `folder` message (for inSync). */
  readonly announced = new Map<string, number>()
  /** Per folder: the last of our sequences the peer has; unset until its `folder` message. */
  private readonly sentUpTo = new Map<string, number>()
  /** Folders whose `folder` message we sent under the membership version given, and when. */
  private readonly introduced = new Map<string, { version: number, at: number }>()
  private readonly index: FolderIndex
  private out?: Promise<MessageChannel>
  /** Sends go one after another: index batches of a folder must arrive in sequence order. */
  private sending: Promise<void> = Promise.resolve()

  constructor (init: { deviceId: string, connection: Connection, index: FolderIndex, counters: PeerCounters, download?: TokenBucket }) {
    this.deviceId = init.deviceId
    this.connection = init.connection
    this.index = init.index
    this.counters = init.counters
    this.chunks = createChunkClient(init.connection, (n) => { this.counters.bytesIn += n }, init.download)
  }

  get isOpen (): boolean {
    return this.connection.status === 'open'
  }

  /** Whether our `folder` message for this membership version has gone out. */
  introducedAt (folder: string): number | undefined {
    return this.introduced.get(folder)?.version
  }

  /** Milliseconds since our `folder` message for the folder went out (undefined: never). */
  sinceIntroduced (folder: string): number | undefined {
    const sent = this.introduced.get(folder)
    return sent === undefined ? undefined : Date.now() - sent.at
  }

  introduce (message: FolderMessage, membershipVersion: number): Promise<void> {
    this.introduced.set(message.folder, { version: membershipVersion, at: Date.now() })
    return this.send(message)
  }

  /** The peer told us what it has of ours: announce from there on. */
  startAnnouncing (folder: string, from: number): Promise<void> {
    this.sentUpTo.set(folder, from)
    return this.announce(folder)
  }

  /** Sends our records the peer has not had yet (no-op before it said what it has). */
  announce (folder: string): Promise<void> {
    const work = this.sending.then(async () => {
      while (this.isOpen) {
        const from = this.sentUpTo.get(folder)
        if (from === undefined) return
        const records = this.index.localSince(folder, from, INDEX_BATCH)
        if (records.length === 0) return
        await this.write(encodeIndexMessage({ type: 'index', folder, records }))
        this.sentUpTo.set(folder, records[records.length - 1]!.sequence)
      }
    })
    this.sending = work.catch(() => {})
    return work
  }

  forget (folder: string): void {
    this.sentUpTo.delete(folder)
    this.introduced.delete(folder)
    this.announced.delete(folder)
  }

  async close (): Promise<void> {
    await this.chunks.close()
    const out = await this.out?.catch(() => undefined)
    await out?.stream.close().catch(() => {})
  }

  private send (message: FolderMessage): Promise<void> {
    const work = this.sending.then(async () => { await this.write(encodeIndexMessage(message)) })
    this.sending = work.catch(() => {})
    return work
  }

  private async write (message: unknown): Promise<void> {
    // No signal: libp2p would keep it on the stream, and a timeout would cut it later.
    this.out ??= this.connection.newStream(INDEX_PROTOCOL)
      .then(stream => messageChannel(stream, MAX_INDEX_MESSAGE))
    const channel = await this.out
    const before = channel.bytesOut
    await channel.writeJson(message)
    this.counters.bytesOut += channel.bytesOut - before
  }
}
