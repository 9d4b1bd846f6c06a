import { constants, createHash, sign } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  CHUNK_NOT_FOUND, CHUNK_PROTOCOL, chunkResponse, createAerieHost, encodeChunkRequest, encodeIndexMessage, INDEX_PROTOCOL, libp2pKeyFromPem,
  MAX_CHUNK_REQUEST_MESSAGE, MAX_CHUNK_RESPONSE, MAX_INDEX_MESSAGE, messageChannel, parseIndexMessage, readDeviceCertificate, TrustStore
} from '@aerie/core'
// Not exported by the package; a forger signs exactly the bytes a real owner signs.
import { canonicalBytes } from '../../packages/core/src/sync/membership.ts'
import { waitFor } from './agents.ts'
import type { Device } from './agents.ts'
import type {
  AerieHost, ChunkRequest, DeviceIdentity, FileRecord, IndexProtocolMessage, MembershipRecord, MessageChannel, SignedMembership, VersionVector
} from '@aerie/core'
import type { Connection, Stream } from '@libp2p/interface'

/** A chunk request an agent sent the rogue (hash in hex). */
export interface ChunkAsked { from: string, folder: string, hash: string, size: number }

/** How a stream we wrote on ended: 'closed' when the agent read it all and closed; otherwise it cut it. */
export type StreamEnd = 'closed' | 'reset' | 'aborted' | 'open'

/** Large enough for the oversized frames a test sends on purpose. */
const ROGUE_MAX_OUT = 16 * 1024 * 1024

/**
 * A device that is genuinely enrolled (its certificate comes from the CA holder, so it passes
 * authentication) but runs scripted code in the test process instead of the agent: it says
 * whatever a test tells it to on the index and chunk protocols, and records what agents say
 * to it. Made from a home that `lab.enrolled()` set up, without starting that device's agent.
 *
 * @example
 * ```ts
 * const mallory = await RoguePeer.start(await lab.enrolled(alice, 'mallory'))
 * await mallory.connect(alice)
 * await mallory.sendIndex(aliceId, mallory.indexMessage('team', [mallory.record('../evil', bytes)]))
 * ```
 */
export class RoguePeer {
  readonly device: Device
  readonly identity: DeviceIdentity
  readonly keyPem: string
  readonly certificate: string
  readonly host: AerieHost
  readonly log: string[]
  /** Index-protocol messages agents sent us (parsed), in order of arrival. */
  readonly received: Array<{ from: string, message: IndexProtocolMessage }> = []
  readonly chunksAsked: ChunkAsked[] = []
  /** The frame (status byte, then bytes) we answer a chunk request with; a test replaces it. */
  answerChunk: (request: ChunkAsked) => ReturnType<typeof chunkResponse> = () => chunkResponse(CHUNK_NOT_FOUND)
  private sequence = 0

  private constructor (init: { device: Device, identity: DeviceIdentity, keyPem: string, certificate: string, host: AerieHost, log: string[] }) {
    this.device = init.device
    this.identity = init.identity
    this.keyPem = init.keyPem
    this.certificate = init.certificate
    this.host = init.host
    this.log = init.log
  }

  get deviceId (): string { return this.identity.deviceId }

  /** Brings up the rogue from an enrolled device's home (key, certificate, CA). */
  static async start (device: Device): Promise<RoguePeer> {
    const keyPem = await readFile(join(device.home, 'device-key.pem'), 'utf8')
    const certificate = await readFile(join(device.home, 'device.crt'), 'utf8')
    const ca = await readFile(join(device.home, 'ca.crt'), 'utf8')
    const log: string[] = []
    const host = await createAerieHost({
      privateKey: libp2pKeyFromPem(keyPem),
      trust: new TrustStore({ credentials: { certificate, ca } }),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      log: line => { log.push(line) }
    })
    const rogue = new RoguePeer({ device, identity: readDeviceCertificate(certificate), keyPem, certificate, host, log })
    await host.libp2p.handle(INDEX_PROTOCOL, (stream, connection) => rogue.readIndex(stream, connection))
    await host.libp2p.handle(CHUNK_PROTOCOL, (stream, connection) => rogue.serveChunks(stream, connection))
    return rogue
  }

  /** Dials an agent; its later streams go over this connection. */
  async connect (agent: Device): Promise<DeviceIdentity> {
    return await this.host.dial(await agent.address(), { signal: AbortSignal.timeout(10_000) })
  }

  /** The index-protocol messages an agent sent us, optionally of one type and folder. */
  messagesFrom (deviceId: string, type?: IndexProtocolMessage['type'], folder?: string): IndexProtocolMessage[] {
    return this.received
      .filter(r => r.from === deviceId && (type === undefined || r.message.type === type) && (folder === undefined || r.message.folder === folder))
      .map(r => r.message)
  }

  /** The newest membership record an agent showed us for a folder (only members get one). */
  membershipFrom (deviceId: string, folder: string): SignedMembership | undefined {
    const messages = this.messagesFrom(deviceId, 'folder', folder)
    const last = messages[messages.length - 1]
    return last?.type === 'folder' ? last.membership as SignedMembership : undefined
  }

  /** The agent's own records of a folder that it announced to us, by path. */
  recordsFrom (deviceId: string, folder: string): Map<string, FileRecord> {
    const records = new Map<string, FileRecord>()
    for (const message of this.messagesFrom(deviceId, 'index', folder)) {
      if (message.type === 'index') for (const record of message.records) records.set(record.path, record)
    }
    return records
  }

  /** Opens an index stream to a connected agent. `maxOut` above the protocol's limit lets a test send oversized frames. */
  async openIndex (deviceId: string, maxOut = MAX_INDEX_MESSAGE): Promise<MessageChannel> {
    const stream = await this.connection(deviceId).newStream(INDEX_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    return messageChannel(stream, MAX_INDEX_MESSAGE, maxOut)
  }

  /**
   * Writes raw messages (already JSON-shaped) on a new index stream, closes our side and
   * waits until the agent has ended the stream: 'closed' when it read everything and closed
   * its side too, 'reset' when it cut the stream.
   */
  async sendIndex (deviceId: string, ...messages: unknown[]): Promise<StreamEnd> {
    const channel = await this.openIndex(deviceId, ROGUE_MAX_OUT)
    try {
      for (const message of messages) await channel.writeJson(message)
      await channel.stream.close({ signal: AbortSignal.timeout(10_000) })
    } catch {
      // The agent may cut the stream while we are still writing: that is an answer too.
    }
    return await streamEnd(channel.stream)
  }

  /** A `folder` message for a folder, carrying whatever membership record the test gives. */
  folderMessage (folder: string, membership: unknown): unknown {
    return { type: 'folder', folder, membership, indexId: `rogue-${this.deviceId}`, sequence: this.sequence, have: { indexId: '', sequence: 0 } }
  }

  /** An `index` message in the wire form, for records made with `record()`. */
  indexMessage (folder: string, records: FileRecord[]): unknown {
    return encodeIndexMessage({ type: 'index', folder, records })
  }

  /**
   * A file record as this device would announce it: one chunk holding `content` (up to
   * 256 KiB), a version that supersedes `after`, and our next sequence number. Nothing is
   * checked: `path` may be anything.
   */
  record (path: string, content: Uint8Array, after: VersionVector = {}): FileRecord {
    const chunks = content.byteLength === 0 ? [] : [{ hash: sha256(content), size: content.byteLength }]
    return this.next(path, after, { type: 'file', size: content.byteLength, chunks })
  }

  symlink (path: string, target: string, after: VersionVector = {}): FileRecord {
    // What a Linux peer's scanner reads for a link (0o777), so the receiver keeps our version as it is.
    return this.next(path, after, { type: 'symlink', size: 0, chunks: [], target, mode: 0o777 })
  }

  /** The tombstone that supersedes `record`. */
  deletion (record: FileRecord): FileRecord {
    return this.next(record.path, record.version, { type: record.type, size: 0, chunks: [], deleted: true })
  }

  private next (path: string, after: VersionVector, content: Pick<FileRecord, 'type' | 'size' | 'chunks'> & Partial<FileRecord>): FileRecord {
    this.sequence++
    const counter = Math.max(Math.floor(Date.now() / 1000), ...Object.values(after)) + 1
    return {
      path,
      mtimeMs: Date.now(),
      mode: 0o644,
      deleted: false,
      ...content,
      version: { ...after, [this.deviceId]: counter },
      sequence: this.sequence,
      modifiedBy: this.deviceId
    }
  }

  /** Sends chunk requests on one new stream and reads one answer per request. */
  async requestChunks (deviceId: string, requests: ChunkRequest[]): Promise<Array<{ status: number, bytes: Uint8Array }>> {
    const stream = await this.connection(deviceId).newStream(CHUNK_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const channel = messageChannel(stream, MAX_CHUNK_RESPONSE, MAX_CHUNK_REQUEST_MESSAGE)
    const answers: Array<{ status: number, bytes: Uint8Array }> = []
    try {
      for (const request of requests) await channel.writeJson(encodeChunkRequest(request))
      for (const _ of requests) {
        const frame = await channel.read({ signal: AbortSignal.timeout(10_000) })
        if (frame === undefined) break
        answers.push({ status: frame[0] as number, bytes: frame.subarray(1) })
      }
      await stream.close({ signal: AbortSignal.timeout(5_000) }).catch(() => {})
    } catch (err) {
      stream.abort(err as Error)
    }
    return answers
  }

  /**
   * A membership record signed with this device's own key (a forgery unless we own the
   * folder). `certificate` is the one carried in it: ours unless a test passes another device's.
   */
  signMembership (record: MembershipRecord, certificate = this.certificate): SignedMembership {
    const signature = sign('sha256', canonicalBytes(record), { key: this.keyPem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    return { record, certificate, signature: signature.toString('base64') }
  }

  async stop (): Promise<void> {
    await this.host.stop()
  }

  private connection (deviceId: string): Connection {
    const connection = this.host.libp2p.getConnections()
      .find(c => c.status === 'open' && this.host.identityOf(c.remotePeer.toString())?.deviceId === deviceId)
    if (connection === undefined) throw new Error(`the rogue ${this.identity.deviceName} is not connected to device ${deviceId}; call connect() first`)
    return connection
  }

  private async readIndex (stream: Stream, connection: Connection): Promise<void> {
    const from = this.host.identityOf(connection.remotePeer.toString())?.deviceId ?? 'unknown'
    const channel = messageChannel(stream, MAX_INDEX_MESSAGE)
    try {
      while (true) {
        const input = await channel.readJson()
        if (input === undefined) break
        this.received.push({ from, message: parseIndexMessage(input) })
      }
      await stream.close()
    } catch (err) {
      this.log.push(`index stream from ${from} ended: ${(err as Error).message}`)
      stream.abort(err as Error)
    }
  }

  private async serveChunks (stream: Stream, connection: Connection): Promise<void> {
    const from = this.host.identityOf(connection.remotePeer.toString())?.deviceId ?? 'unknown'
    const channel = messageChannel(stream, MAX_CHUNK_REQUEST_MESSAGE, ROGUE_MAX_OUT)
    try {
      while (true) {
        const input = await channel.readJson() as { folder: string, hash: string, size: number } | undefined
        if (input === undefined) break
        const asked = { from, folder: input.folder, hash: input.hash, size: input.size }
        this.chunksAsked.push(asked)
        await channel.write(this.answerChunk(asked))
      }
      await stream.close()
    } catch (err) {
      this.log.push(`chunk stream from ${from} ended: ${(err as Error).message}`)
      stream.abort(err as Error)
    }
  }
}

export function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Waits (bounded) until the agent has ended a stream we wrote on, and says how. */
async function streamEnd (stream: Stream): Promise<StreamEnd> {
  await waitFor(() => stream.status !== 'open' && stream.status !== 'closing', 'the agent to end the index stream', 10_000).catch(() => {})
  return stream.status === 'closing' ? 'open' : stream.status
}
