import { AerieError, ProtocolError } from '../errors.ts'
import {
  BACKUP_ERROR, BACKUP_GET, BACKUP_LACKS, BACKUP_NOT_FOUND, BACKUP_OK, BACKUP_OK_COMPRESSED, BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0, BACKUP_PUT, BACKUP_PUT_COMPRESSED, BACKUP_REFUSED, BACKUP_REQUEST, BACKUP_WINDOW,
  backupFrame, backupFrameParts, MAX_BACKUP_BLOB, MAX_BACKUP_FRAME, MAX_LACKS, parseBackupResponse, readSizeField, sizeField
} from '../protocol/backup-messages.ts'
import { messageChannel } from '../protocol/message-channel.ts'
import { compressIfItPays, decompress } from '../store/chunk-compression.ts'
import { ownBytes, releaseBytes } from '../util/release-bytes.ts'
import type { Connection } from '@libp2p/interface'
import type { BackupRequest, BackupResponse, FrameParts, NewSnapshot, OpenPurpose, SnapshotSummary } from '../protocol/backup-messages.ts'
import type { MessageChannel } from '../protocol/message-channel.ts'
import type { BackupTarget } from './chunk-uploader.ts'
import type { BlobSource } from './tree.ts'

/**
 * The team server's backup repository as a device sees it (`/aerie/backup/1.1.0`): requests are
 * pipelined on one stream, up to BACKUP_WINDOW in flight, and answered in order. Which chunks
 * the server lacks is asked on a second stream: on the first, that answer would wait behind
 * every put before it, each answered only once stored and fsynced, and the next batch's
 * puts would wait for it.
 */
export interface RemoteRepository extends BackupTarget, BlobSource {
  list(): Promise<SnapshotSummary[]>
  /** Makes the snapshot's blobs readable on this stream (get); `restore` is audited by the server. */
  open(id: string, purpose: OpenPurpose): Promise<SnapshotSummary>
  commit(snapshot: NewSnapshot): Promise<SnapshotSummary>
  readonly bytesOut: number
  close(): Promise<void>
}

interface Pending { resolve(frame: FrameParts): void, reject(err: Error): void }

/** One backup stream: requests pipelined, up to BACKUP_WINDOW in flight, answered in order. */
interface RequestStream {
  /** Sends a request frame and resolves with its answer (an error answer is thrown). */
  call(frame: Uint8Array | FrameParts): Promise<FrameParts>
  /** The server takes compressed puts (it speaks 1.1.0). */
  readonly takesCompressed: boolean
  readonly bytesOut: number
  close(): Promise<void>
}

async function openRequestStream (connection: Connection): Promise<RequestStream> {
  // No signal: libp2p would keep it on the stream, and a timeout would cut a long backup.
  const stream = await connection.newStream([BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0])
  const channel: MessageChannel = messageChannel(stream, MAX_BACKUP_FRAME)
  const pending: Pending[] = []
  const slots: Array<() => void> = []
  let failure: Error | undefined
  let writing: Promise<void> = Promise.resolve()

  function fail (err: Error): void {
    failure ??= err
    for (const p of pending.splice(0)) p.reject(failure)
    for (const wake of slots.splice(0)) wake()
  }

  void (async () => {
    try {
      for (;;) {
        // As the parts it arrived in: a blob read for a restore is copied once, without the status byte.
        const frame = await channel.readParts()
        if (frame === undefined) throw new ProtocolError('the team server closed the backup stream')
        if (frame.byteLength === 0) throw new ProtocolError('the team server sent an empty answer')
        const waiting = pending.shift()
        if (waiting === undefined) throw new ProtocolError('the team server sent an answer nobody asked for')
        waiting.resolve(frame)
        slots.shift()?.()
      }
    } catch (err) {
      fail(err as Error)
    }
  })()

  // Requests made in one turn of the event loop go out in one write (a restore asks for many
  // chunks at once), one write at a time, in the order the answers are expected.
  let outbox: Array<Uint8Array | FrameParts> = []
  function send (frame: Uint8Array | FrameParts): Promise<void> {
    outbox.push(frame)
    if (outbox.length === 1) {
      const previous = writing
      writing = new Promise<void>(resolve => setImmediate(resolve)).then(async () => {
        await previous
        const going = outbox
        outbox = []
        await channel.writeMany(going)
      })
      writing.catch((err: Error) => { fail(err) })
    }
    return writing
  }

  return {
    get bytesOut () { return channel.bytesOut },
    takesCompressed: stream.protocol === BACKUP_PROTOCOL,
    async call (frame) {
      while (failure === undefined && pending.length >= BACKUP_WINDOW) await new Promise<void>(resolve => slots.push(resolve))
      if (failure !== undefined) throw failure
      const answer = new Promise<FrameParts>((resolve, reject) => { pending.push({ resolve, reject }) })
      answer.catch(() => {})
      await send(frame)
      const reply = await answer
      if (reply.get(0) === BACKUP_ERROR) {
        let error: { code?: string, message?: string } = {}
        try { error = JSON.parse(new TextDecoder().decode(reply.subarray(1))) as typeof error } catch {}
        throw new AerieError(String(error.code ?? 'ERR_PROTOCOL'), `the team server says: ${String(error.message ?? 'no reason given').slice(0, 2000)}`)
      }
      return reply
    },
    async close () {
      fail(new ProtocolError('the backup stream was closed'))
      await stream.close().catch(() => { stream.abort(new Error('closed')) })
    }
  }
}

export async function openRemoteRepository (connection: Connection): Promise<RemoteRepository> {
  const main = await openRequestStream(connection)
  // Opened with the first question, so a restore never opens it.
  let queries: Promise<RequestStream> | undefined
  let opened: RequestStream | undefined
  const ask = async (frame: Uint8Array): Promise<FrameParts> => {
    queries ??= openRequestStream(connection).then(stream => (opened = stream))
    return await (await queries).call(frame)
  }

  async function request (message: BackupRequest): Promise<BackupResponse> {
    const reply = await main.call(backupFrame(BACKUP_REQUEST, new TextEncoder().encode(JSON.stringify(message))))
    if (reply.get(0) !== BACKUP_OK) throw new ProtocolError('the team server answered a request with a bad status')
    let json: unknown
    try { json = JSON.parse(new TextDecoder().decode(reply.subarray(1))) } catch { throw new ProtocolError('the team server sent an answer that is not JSON') }
    return parseBackupResponse(json)
  }

  return {
    get bytesOut () { return main.bytesOut + (opened?.bytesOut ?? 0) },
    async lacks (hashes) {
      const answers: boolean[] = []
      const asks = []
      for (let i = 0; i < hashes.length; i += MAX_LACKS) asks.push(ask(backupFrame(BACKUP_LACKS, ...hashes.slice(i, i + MAX_LACKS))))
      for (const [n, ask] of asks.entries()) {
        const reply = (await ask).subarray()
        const count = Math.min(MAX_LACKS, hashes.length - n * MAX_LACKS)
        if (reply[0] !== BACKUP_OK || reply.byteLength !== 1 + count) throw new ProtocolError('the team server answered which chunks it lacks with a bad frame')
        for (let i = 1; i <= count; i++) answers.push(reply[i] === 1)
      }
      return answers
    },
    async put (hash, bytes) {
      // Compressed where it pays (text, code, documents: less to send and to store), else as it
      // is: joined into one frame, every byte of a backup was copied once more.
      const compressed = main.takesCompressed ? compressIfItPays(bytes) : undefined
      const frame = compressed === undefined
        ? backupFrameParts(BACKUP_PUT, hash, bytes)
        : backupFrameParts(BACKUP_PUT_COMPRESSED, hash, sizeField(bytes.byteLength), compressed)
      const reply = await main.call(frame)
      if (reply.get(0) !== BACKUP_OK) throw new ProtocolError('the team server did not store a chunk')
      // Only once answered: a put that failed may still be queued on its way out.
      if (compressed === undefined) return bytes.byteLength
      releaseBytes(compressed)
      return compressed.byteLength
    },
    async get (hash) {
      const reply = await main.call(backupFrame(BACKUP_GET, hash))
      const status = reply.get(0)
      // Bytes of their own (ownBytes), which a restore frees once written.
      if (status === BACKUP_OK) return ownBytes(reply.subarray(1))
      if (status === BACKUP_OK_COMPRESSED) {
        // Unpacked no further than the size it names; the caller verifies the bytes against the id.
        const header = reply.subarray(0, 5)
        const size = header.byteLength === 5 ? readSizeField(header, 1) : 0
        if (size === 0 || size > MAX_BACKUP_BLOB) throw new ProtocolError('the team server sent a compressed chunk with a bad size')
        const compressed = reply.subarray(5)
        const bytes = decompress(compressed, size)
        releaseBytes(compressed)
        return bytes
      }
      if (status === BACKUP_NOT_FOUND) return undefined
      if (status === BACKUP_REFUSED) throw new ProtocolError('the team server refused a chunk that is not in a snapshot this device opened')
      throw new ProtocolError('the team server answered a read with a bad status')
    },
    async list () {
      const answer = await request({ type: 'list' })
      if (answer.type !== 'snapshots') throw new ProtocolError('the team server did not list snapshots')
      return answer.snapshots
    },
    async open (id, purpose) {
      const answer = await request({ type: 'open', id, purpose })
      if (answer.type !== 'snapshot') throw new ProtocolError('the team server did not open the snapshot')
      return answer.snapshot
    },
    async commit (snapshot) {
      const answer = await request({ type: 'commit', snapshot })
      if (answer.type !== 'snapshot') throw new ProtocolError('the team server did not take the snapshot')
      return answer.snapshot
    },
    async close () {
      const extra = await queries?.catch(() => undefined)
      await Promise.all([main.close(), extra?.close()])
    }
  }
}
