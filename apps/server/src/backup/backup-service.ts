import { randomBytes } from 'node:crypto'
import {
  AerieError, BACKUP_ERROR, BACKUP_GET, BACKUP_LACKS, BACKUP_NOT_FOUND, BACKUP_OK, BACKUP_OK_COMPRESSED, BACKUP_PROTOCOL, BACKUP_PUT, BACKUP_PUT_COMPRESSED, BACKUP_REFUSED, BACKUP_REQUEST, BACKUP_WINDOW,
  backupFrameParts, chunkIdFromHex, chunkIdHex, decodeChunkList, decodeTree, decompress, MAX_BACKUP_BLOB, MAX_BACKUP_FRAME, MAX_BACKUP_JSON, MAX_LACKS, messageChannel,
  parseBackupRequest, ProtocolError, readSizeField, referencesOf, releaseBytes, sizeField, SnapshotNotFoundError, StoreDamagedError, StoreFullError
} from '@aerie/core'
import { snapshotChecker } from './snapshot-check.ts'
import type { BackupRequest, BackupResponse, ChunkStore, FrameParts, SnapshotSummary } from '@aerie/core'
import type { Stream } from '@libp2p/interface'
import type { AuditLog } from '../audit/audit-log.ts'
import type { BackupRestoreGrantRecord, BackupSnapshotRecord, BackupStore, ScrubReport } from '../metadata/stores.ts'

/** Bytes of one stream's requests the server holds while it works on them (its memory bound per device). */
const MAX_HELD_BYTES = 32 * 1024 * 1024

/**
 * The team server's side of `/aerie/backup/1.1.0` (and 1.0.0, without compression): devices'
 * snapshots go into the server's one chunk store (so they dedupe with the central copy and with
 * every other device), and their records into the metadata database. A device sees and reads
 * only its own snapshots, and can only add them: there is no request that deletes or changes
 * one. Chunks are verified before they are stored, and a snapshot is accepted only when
 * everything it names is there.
 */
export interface BackupServiceInit {
  store: ChunkStore
  snapshots: BackupStore
  audit: AuditLog
  log(line: string): void
  /**
   * The last scrub's report (BackupAdmin.lastScrub): a snapshot it found damaged is not offered
   * as a backup's parent, so the next backup reads its files again and sends the damaged chunks
   * anew, which repairs the store.
   */
  lastScrub?(): ScrubReport | undefined
  /** Called after a snapshot is added (the server applies retention then). */
  onSnapshot?(snapshot: BackupSnapshotRecord): void
  now?(): Date
}

/** The device on the other end, as its certificate says. */
export interface BackupDevice { deviceId: string, deviceName: string, user: string, address: string }

/** One stream's requests, answered one frame at a time (the stream loop keeps them in order). */
export interface BackupSession {
  answer (frame: Uint8Array): Promise<FrameParts>
  /** The stream ended: the snapshots it opened are no longer in use. */
  close (): void
}

export interface BackupService {
  /**
   * `compresses`: the device speaks 1.1.0: it sends compressed what pays (so what it sends plain
   * does not), and unpacks chunks sent compressed.
   */
  session (device: BackupDevice, options?: { compresses?: boolean }): BackupSession
  /** Serves one stream until the device closes it. */
  serve (stream: Stream, device: BackupDevice): Promise<void>
  /**
   * Roots of the snapshots that streams being served have open, as parents of backups or to
   * restore: a garbage collection keeps what they name even if retention forgets them meanwhile.
   */
  openRoots (): string[]
  /** After a garbage collection swept chunks: directories remembered as complete are checked again. */
  forgetChecked (): void
  /** Since when the store has refused puts for want of space; undefined once a backup is committed again (or none was refused). */
  storeFullSince (): Date | undefined
}

type Readable = 'tree' | 'list' | 'data'

export function backupService (init: BackupServiceInit): BackupService {
  const { store, snapshots, audit } = init
  const now = (): Date => init.now?.() ?? new Date()
  const checker = snapshotChecker(store)
  // Root → how many sessions have it open.
  const inUse = new Map<string, number>()
  let scrubSeen: string | undefined
  // After a scrub that found damage, directories remembered as complete are checked again.
  const damaged = (): Set<string> => {
    const report = init.lastScrub?.()
    if (report !== undefined && report.finishedAt !== scrubSeen) {
      scrubSeen = report.finishedAt
      if (report.damaged.length > 0) checker.forget()
    }
    return new Set(report?.snapshots.map(s => s.id))
  }
  // Chunks a device's read (a restore, a browse) found damaged since the last scrub began. A
  // scrub names the snapshots that need a damaged chunk; a read does not know them. So while
  // one is unrepaired, no snapshot is offered as a parent: the next backups read their files
  // again and send what the server lacks, and the first that still has the chunk repairs it.
  /** Chunk id (hex) -> when a read found it damaged. */
  const damagedByReads = new Map<string, Date>()
  /** A store read on a device's behalf; damage it finds is noted before it fails the read. */
  const readFor = async <T>(id: Uint8Array, read: Promise<T>): Promise<T> => {
    try {
      return await read
    } catch (err) {
      if (err instanceof StoreDamagedError) {
        damagedByReads.set(chunkIdHex(id), now())
        // Directories remembered as complete may hold it: a commit checks them again.
        checker.forget()
      }
      throw err
    }
  }
  const unmappedDamage = async (): Promise<boolean> => {
    const report = init.lastScrub?.()
    // A whole scrub that began after the read re-read the chunk: its report names who needs it.
    const mappedBefore = report === undefined || report.error !== undefined ? undefined : new Date(report.startedAt)
    for (const [key, foundAt] of damagedByReads) if (mappedBefore !== undefined && foundAt < mappedBefore) damagedByReads.delete(key)
    if (damagedByReads.size === 0) return false
    const found = [...damagedByReads.keys()]
    const repaired = await store.has(found.map(chunkIdFromHex))
    found.forEach((key, i) => { if (repaired[i] === true) damagedByReads.delete(key) })
    return damagedByReads.size > 0
  }

  // Since when the store's disk has been full (it refused a put), until a backup is committed
  // again (a single put may fit between refusals): the admin hears of it once per episode,
  // every device at each refused backup.
  let fullSince: Date | undefined
  const storeFull = (err: StoreFullError, device: BackupDevice): StoreFullError => {
    if (fullSince === undefined) {
      fullSince = now()
      init.log(`backups refused: ${err.message}; free space (a garbage collection, retention) or give the store more disk`)
      audit.record({ actor: 'chunk store', action: 'backup.store_full', target: 'store', detail: { error: err.message, device: device.deviceName } }, now())
    }
    return new StoreFullError('its disk for backups is full, so nothing of this backup was committed (the next one sends only what the server lacks); tell an administrator')
  }
  const stored = (): void => {
    if (fullSince === undefined) return
    init.log(`backups stored again: the store had room for a whole backup (it was full from ${fullSince.toISOString()})`)
    fullSince = undefined
  }

  function session (device: BackupDevice, options: { compresses?: boolean } = {}): BackupSession {
    // What this stream may read: the snapshots it opened, and what their objects refer to, as it reads them.
    const readable = new Map<string, Readable>()
    const opened = new Set<string>()
    const received = { chunks: 0, bytes: 0 }
    const actor = `${device.user} (device ${device.deviceId})`

    function own (id: string): BackupSnapshotRecord {
      const mine = snapshots.listSnapshots({ deviceId: device.deviceId })
      if (id === 'latest') {
        const latest = mine.at(-1)
        if (latest === undefined) throw new SnapshotNotFoundError('this device has no snapshots yet; `aerie backup run` makes one')
        return latest
      }
      const found = mine.filter(s => s.id.startsWith(id))
      // Another device's snapshot is answered as unknown: a device cannot even learn that it exists.
      if (found.length === 0) throw new SnapshotNotFoundError(`this device has no snapshot ${id}; \`aerie restore list\` shows its snapshots`)
      if (found.length > 1) throw new SnapshotNotFoundError(`${id} names ${found.length} snapshots of this device; give more of the id`)
      return found[0]!
    }

    // Another device's snapshot opens only under an admin's unexpired grant to this device, and never as a backup's parent.
    function openable (id: string, purpose: string): { snapshot: BackupSnapshotRecord, grant?: BackupRestoreGrantRecord } {
      try {
        const snapshot = own(id)
        if (purpose === 'parent' && damaged().has(snapshot.id)) {
          throw new SnapshotNotFoundError(`snapshot ${snapshot.id} needs chunks the last scrub found damaged: back up without it (every file is read and sent again where the server lacks it)`)
        }
        return { snapshot }
      } catch (err) {
        if (!(err instanceof SnapshotNotFoundError) || purpose === 'parent' || id === 'latest') throw err
        const grants = snapshots.restoreGrants(device.deviceId, now()).filter(g => g.snapshotId.startsWith(id))
        const grant = grants.at(-1)
        const snapshot = grant === undefined ? undefined : snapshots.snapshot(grant.snapshotId)
        if (grant === undefined || snapshot === undefined || new Set(grants.map(g => g.snapshotId)).size > 1) throw err
        return { snapshot, grant }
      }
    }

    async function request (message: BackupRequest): Promise<BackupResponse> {
      switch (message.type) {
        case 'list':
          return { type: 'snapshots', snapshots: snapshots.listSnapshots({ deviceId: device.deviceId }).map(summary) }
        case 'open': {
          const { snapshot, grant } = openable(message.id, message.purpose)
          if (message.purpose === 'parent' && await unmappedDamage()) {
            throw new SnapshotNotFoundError(`a restore found a damaged chunk that no scrub has traced to its snapshots yet: back up without snapshot ${snapshot.id} (every file is read again, and what the server lacks is sent)`)
          }
          readable.set(snapshot.root, 'tree')
          if (!opened.has(snapshot.root)) {
            opened.add(snapshot.root)
            inUse.set(snapshot.root, (inUse.get(snapshot.root) ?? 0) + 1)
          }
          if (message.purpose === 'restore') {
            audit.record({
              actor,
              action: 'backup.restore',
              target: snapshot.id,
              detail: { device: snapshot.deviceId, paths: snapshot.paths.join(', '), ...(grant === undefined ? {} : { grantedBy: grant.grantedBy, grant: grant.id }) },
              address: device.address
            }, now())
          }
          return { type: 'snapshot', snapshot: summary(snapshot) }
        }
        case 'commit': {
          const { snapshot } = message
          damaged()
          const { trees, chunks } = await checker.check(chunkIdFromHex(snapshot.root))
          const record = snapshots.addSnapshot({
            ...snapshot,
            id: randomBytes(8).toString('hex'),
            deviceId: device.deviceId,
            deviceName: device.deviceName,
            user: device.user,
            startedAt: new Date(snapshot.startedAt),
            committedAt: now(),
            received: { ...received }
          })
          audit.record({
            actor,
            action: 'backup.snapshot_added',
            target: record.id,
            detail: { paths: record.paths.join(', '), files: record.counters.files ?? 0, bytes: record.counters.bytes ?? 0, receivedBytes: received.bytes },
            address: device.address
          }, now())
          stored()
          try { init.onSnapshot?.(record) } catch (err) { init.log(`after backup ${record.id}: ${(err as Error).message}`) }
          init.log(`backup ${record.id} of ${device.deviceName} (${device.deviceId}): ${trees} directories checked, ${chunks} chunks referenced, ${received.chunks} new blobs (${received.bytes} bytes) received`)
          return { type: 'snapshot', snapshot: summary(record) }
        }
      }
    }

    async function answer (frame: Uint8Array): Promise<FrameParts> {
      const kind = frame[0]
      const body = frame.subarray(1)
      switch (kind) {
        case BACKUP_LACKS: {
          if (body.byteLength === 0 || body.byteLength % 32 !== 0 || body.byteLength / 32 > MAX_LACKS) throw new ProtocolError(`bad backup request: a lacks request holds 1 to ${MAX_LACKS} 32-byte ids`)
          const hashes = []
          for (let at = 0; at < body.byteLength; at += 32) hashes.push(body.subarray(at, at + 32))
          const has = await store.has(hashes)
          return backupFrameParts(BACKUP_OK, Uint8Array.from(has, h => h ? 0 : 1))
        }
        case BACKUP_PUT: {
          if (body.byteLength <= 32) throw new ProtocolError('bad backup request: a put holds an id and at least one byte')
          // The store checks the bytes against the id before it writes anything. A device that
          // compresses (1.1.0) sent this plain because compression does not pay: not tried again.
          await store.put(body.subarray(0, 32), body.subarray(32), { compress: options.compresses !== true })
          received.chunks++
          received.bytes += body.byteLength - 32
          return backupFrameParts(BACKUP_OK)
        }
        case BACKUP_PUT_COMPRESSED: {
          if (body.byteLength <= 36) throw new ProtocolError('bad backup request: a compressed put holds an id, a size and at least one byte')
          const size = readSizeField(body, 32)
          const compressed = body.subarray(36)
          if (size > MAX_BACKUP_BLOB || compressed.byteLength >= size) throw new ProtocolError(`bad backup request: a compressed put must be shorter than its blob, which is at most ${MAX_BACKUP_BLOB} bytes`)
          let bytes: Uint8Array
          // Bounded by the size it names, so a small frame cannot unpack into a large one.
          try { bytes = decompress(compressed, size) } catch { throw new ProtocolError(`bad backup request: a compressed put does not unpack to the ${size} bytes it names`) }
          // The store checks the unpacked bytes against the id, and keeps the compressed form it was sent.
          await store.put(body.subarray(0, 32), bytes, { compressed })
          releaseBytes(bytes)
          received.chunks++
          received.bytes += compressed.byteLength
          return backupFrameParts(BACKUP_OK)
        }
        case BACKUP_GET: {
          if (body.byteLength !== 32) throw new ProtocolError('bad backup request: a get holds one 32-byte id')
          const key = chunkIdHex(body)
          const kind = readable.get(key)
          if (kind === undefined) return backupFrameParts(BACKUP_REFUSED)
          // File chunks are only passed on, as stored (compressed or not), and the device hashes
          // each one (the store still checks its seal); what the server reads itself, it hashes.
          if (kind === 'data' && options.compresses === true) {
            const stored = await readFor(body, store.getStored(body))
            if (stored === undefined) return backupFrameParts(BACKUP_NOT_FOUND)
            return stored.compressed ? backupFrameParts(BACKUP_OK_COMPRESSED, sizeField(stored.size), stored.bytes) : backupFrameParts(BACKUP_OK, stored.bytes)
          }
          const bytes = await readFor(body, store.get(body, { callerVerifies: kind === 'data' }))
          if (bytes === undefined) return backupFrameParts(BACKUP_NOT_FOUND)
          if (kind === 'tree') {
            const refs = referencesOf(decodeTree(bytes))
            for (const id of refs.trees) readable.set(chunkIdHex(id), 'tree')
            for (const id of refs.lists) if (readable.get(chunkIdHex(id)) !== 'tree') readable.set(chunkIdHex(id), 'list')
            for (const id of refs.chunks) if (!readable.has(chunkIdHex(id))) readable.set(chunkIdHex(id), 'data')
          } else if (kind === 'list') {
            for (const c of decodeChunkList(bytes)) if (!readable.has(chunkIdHex(c.hash))) readable.set(chunkIdHex(c.hash), 'data')
          }
          // Sent as it is, not joined into one frame with its status (a copy of every byte restored).
          return backupFrameParts(BACKUP_OK, bytes)
        }
        case BACKUP_REQUEST: {
          if (body.byteLength > MAX_BACKUP_JSON) throw new ProtocolError('bad backup request: over the size limit')
          let json: unknown
          try { json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) } catch { throw new ProtocolError('bad backup request: not JSON') }
          const reply = await request(parseBackupRequest(json))
          return backupFrameParts(BACKUP_OK, new TextEncoder().encode(JSON.stringify(reply)))
        }
        default:
          throw new ProtocolError(`bad backup request: unknown kind ${String(kind)}`)
      }
    }

    return {
      close () {
        for (const root of opened) {
          const n = (inUse.get(root) ?? 1) - 1
          if (n === 0) inUse.delete(root)
          else inUse.set(root, n)
        }
        opened.clear()
      },
      async answer (frame) {
        try {
          return await answer(frame)
        } catch (caught) {
          const err = caught instanceof StoreFullError ? storeFull(caught, device) : caught
          const code = err instanceof AerieError ? err.code : 'ERR_INTERNAL'
          if (!(err instanceof AerieError)) init.log(`backup request from ${device.deviceName} failed: ${(err as Error).stack ?? String(err)}`)
          return backupFrameParts(BACKUP_ERROR, new TextEncoder().encode(JSON.stringify({ code, message: (err as Error).message })))
        }
      }
    }
  }

  return {
    session,
    openRoots: () => [...inUse.keys()],
    storeFullSince: () => fullSince,
    forgetChecked: () => { checker.forget() },
    async serve (stream, device) {
      const channel = messageChannel(stream, MAX_BACKUP_FRAME)
      const current = session(device, { compresses: stream.protocol === BACKUP_PROTOCOL })
      // Requests are worked on together (puts then share the store's group commit) and answered in order.
      let inFlight = 0
      let heldBytes = 0
      let wake: (() => void) | undefined
      let broken: Error | undefined
      let writer = Promise.resolve()
      try {
        for (;;) {
          while ((inFlight >= BACKUP_WINDOW || heldBytes >= MAX_HELD_BYTES) && broken === undefined) await new Promise<void>(resolve => { wake = resolve })
          if (broken !== undefined) throw broken
          const frame = await channel.read()
          if (frame === undefined) break
          const size = frame.byteLength
          inFlight++
          heldBytes += size
          // Once answered, nothing reads the request again (a put's bytes were sealed into the store).
          const reply = current.answer(frame).finally(() => { releaseBytes(frame) })
          writer = writer.then(async () => {
            await channel.write(await reply)
            inFlight--
            heldBytes -= size
            wake?.()
          })
          // A failed write ends the stream, which ends the read above.
          writer.catch((err: Error) => { broken = err; stream.abort(err); wake?.() })
        }
        await writer
        await stream.close()
      } catch (err) {
        stream.abort(err as Error)
      } finally {
        current.close()
      }
    }
  }
}

function summary (s: BackupSnapshotRecord): SnapshotSummary {
  return {
    id: s.id, deviceId: s.deviceId, deviceName: s.deviceName, user: s.user, root: s.root, paths: s.paths, startedAt: s.startedAt.toISOString(),
    committedAt: s.committedAt.toISOString(), counters: s.counters, received: s.received
  }
}
