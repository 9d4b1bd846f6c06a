import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  answerOnce, BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0, caFingerprint, CentralCopy, createAerieHost, createCrl, createEnrollmentIssuer, dialableAddresses, InvalidInputError,
  libp2pKeyFromPem, MAX_SHARE_REQUEST, MAX_SHARE_RESPONSE, openCaStore, parseShareRequest, SHARE_PROTOCOL, openCentralHistory, openFolderIndex, openMembershipStore, openPackStore, TrustStore,
  tuneHeapForTransfers, writeFileAtomic
} from '@aerie/core'
import { createEnrollmentCode } from './enrollment-codes.ts'
import { serverPaths } from './server-identity.ts'
import type { AerieHost, CaStore, CentralHistory, CentralRepair, ChunkStore, ChunkStoreStats, FileIdentity, FileRecord, FolderIndex, FolderRole, PullProgress, RetentionPolicy, ServerVersion } from '@aerie/core'
import type { DeviceShareHandler } from './device-shares.ts'
import type { BackupAdmin } from './backup/backup-admin.ts'
import type { BackupService } from './backup/backup-service.ts'
import type { CentralFileChunks } from './backup/scrub.ts'
import type { ServerConfig } from './config.ts'
import type { ServerIdentity } from './server-identity.ts'
import type { DeviceSummary, EnrollmentCodeIssued, FolderEntry, FolderSummary, OrgSummary, TeamServerApi } from './team-server-api.ts'

/**
 * The team server's engine: its libp2p peer (the organisation's CA holder: it enrolls devices
 * and publishes CRLs), the central copy of every folder shared with it, and the chunk store
 * that holds their contents. The web layer (src/web) reaches it only through TeamServerApi.
 */
export interface TeamServerInit {
  config: ServerConfig
  identity: ServerIdentity
  log(line: string): void
  /** Security events of the peer side (enrollments), for the audit log. */
  audit?(event: { actor: string, action: string, target?: string, detail?: Record<string, string>, address?: string }): void
  onProgress?(progress: PullProgress): void
}

/** What a running server tells the `aerie-server` commands (and tests): written at start. */
export interface ServerState {
  pid: number
  /** Waiting for the admin passphrase (locked mode): only the unlock page is served, at webUrl. */
  locked: boolean
  webUrl?: string
  deviceId?: string
  p2pAddresses?: string[]
}

export const STATE_FILE = 'server-state.json'

export async function publishState (dataDir: string, state: ServerState): Promise<void> {
  await writeFileAtomic(join(dataDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
}

export class TeamServer implements TeamServerApi {
  private readonly init: TeamServerInit
  private host!: AerieHost
  private trust!: TrustStore
  private caStore!: CaStore
  private index!: FolderIndex
  private history!: CentralHistory
  private store!: ChunkStore
  private central!: CentralCopy
  private readonly lastSeen = new Map<string, { at: Date, address: string }>()
  backup?: BackupAdmin

  private constructor (init: TeamServerInit) {
    this.init = init
  }

  static async start (init: TeamServerInit): Promise<TeamServer> {
    tuneHeapForTransfers()
    const server = new TeamServer(init)
    try {
      await server.boot()
    } catch (err) {
      // What booted before the failure (its libp2p peer, open databases) must not keep the process alive.
      await server.stop().catch(() => {})
      throw err
    }
    return server
  }

  private async boot (): Promise<void> {
    const { config, identity, log } = this.init
    const paths = serverPaths(config.dataDir)
    const data = (...parts: string[]): string => join(config.dataDir, ...parts)
    this.caStore = openCaStore(paths.caDb)
    this.trust = new TrustStore({
      credentials: { certificate: identity.deviceCertPem, ca: identity.caCertPem },
      crl: await readFile(paths.crl).then(b => new Uint8Array(b), () => undefined)
    })
    const issuer = createEnrollmentIssuer({
      caCertPem: identity.caCertPem,
      caKey: identity.caKey,
      store: this.caStore,
      audit: (event) => {
        log(`${event.action} from ${event.remoteAddress}: ${event.detail}`)
        this.init.audit?.({ actor: 'enrollment code', action: event.action === 'enrolled' ? 'device.enrolled' : 'device.enrollment_refused', detail: { detail: event.detail }, address: event.remoteAddress })
      }
    })
    this.host = await createAerieHost({
      privateKey: libp2pKeyFromPem(identity.deviceKeyPem),
      trust: this.trust,
      listen: config.p2pListen,
      issuer,
      mdns: config.mdns,
      log
    })
    this.host.addEventListener('device:connect', (evt) => {
      const { identity: peer, remoteAddress } = evt.detail
      this.lastSeen.set(peer.deviceId, { at: new Date(), address: remoteAddress })
      log(`connected to ${peer.deviceName} (${peer.deviceId}, ${peer.user}) at ${remoteAddress}`)
    })
    this.host.addEventListener('device:disconnect', (evt) => {
      const deviceId = evt.detail.identity?.deviceId
      if (deviceId !== undefined) this.lastSeen.set(deviceId, { at: new Date(), address: this.lastSeen.get(deviceId)?.address ?? '' })
    })

    this.index = openFolderIndex(data('index.db'), identity.device.deviceId)
    this.history = openCentralHistory(data('history.db'), identity.dataKey)
    this.store = await openPackStore({ dir: paths.store, dataKey: identity.dataKey })
    const memberships = await openMembershipStore(data('memberships'), { caCertificate: identity.caCertPem, crl: () => this.trust.currentCrl() })
    for (const problem of memberships.problems) log(problem.message)
    this.central = await CentralCopy.start({
      host: this.host,
      index: this.index,
      deviceId: identity.device.deviceId,
      memberships,
      store: this.store,
      history: this.history,
      keyPem: identity.deviceKeyPem,
      certificate: identity.deviceCertPem,
      caCertificate: identity.caCertPem,
      crl: () => this.trust.currentCrl(),
      log,
      audit: (event) => { this.init.audit?.(event) }
    })
    if (this.init.onProgress !== undefined) this.central.addEventListener('progress', (evt) => { this.init.onProgress?.(evt.detail) })
    this.central.addEventListener('pulled', (evt) => {
      const p = evt.detail
      log(`folder ${p.folder}: kept ${p.doneFiles} of ${p.needFiles} items, ${p.networkBytes} bytes from members, ${p.localBytes} already stored${p.problems > 0 ? `, ${p.problems} not yet` : ''}`)
    })
    log(`team server ${identity.device.deviceId} listening for devices on ${this.host.addresses().join(', ')}`)
  }

  /** Writes server-state.json for the `aerie-server` commands. */
  async publishState (webUrl?: string): Promise<void> {
    await publishState(this.init.config.dataDir, { pid: process.pid, locked: false, deviceId: this.init.identity.device.deviceId, p2pAddresses: this.p2pAddresses(), ...(webUrl === undefined ? {} : { webUrl }) })
  }

  /** Addresses devices can dial (wildcards expanded to this machine's interfaces). */
  p2pAddresses (): string[] {
    const bound = this.host.addresses().map(a => a.replace(/\/p2p\/[^/]+$/, ''))
    return dialableAddresses(bound)
  }

  org (): OrgSummary {
    const { identity, config } = this.init
    return { name: config.org, caFingerprint: caFingerprint(identity.caCertPem), deviceId: identity.device.deviceId, addresses: this.p2pAddresses() }
  }

  devices (): DeviceSummary[] {
    const online = new Map(this.host.connectedDevices().map(d => [d.identity.deviceId, d]))
    return this.caStore.listDevices().map(d => {
      const seen = this.lastSeen.get(d.deviceId)
      const connected = online.get(d.deviceId)
      const summary: DeviceSummary = {
        deviceId: d.deviceId,
        deviceName: d.deviceName,
        user: d.user,
        issuedAt: new Date(d.issuedAt).toISOString(),
        online: connected !== undefined || d.deviceId === this.init.identity.device.deviceId
      }
      if (d.revokedAt != null) summary.revokedAt = new Date(d.revokedAt).toISOString()
      if (seen !== undefined) summary.lastSeen = seen.at.toISOString()
      const address = connected?.remoteAddress ?? seen?.address
      if (address !== undefined && address !== '') summary.address = address
      return summary
    })
  }

  createEnrollmentCode (request: { user: string, deviceName?: string, ttlMs: number }): EnrollmentCodeIssued {
    return createEnrollmentCode(this.caStore, this.init.identity.caCertPem, { ...request, addresses: this.p2pAddresses() })
  }

  async revokeDevice (device: string): Promise<DeviceSummary> {
    const { identity } = this.init
    const record = this.caStore.findDevice(device)
    if (record.deviceId === identity.device.deviceId) throw new InvalidInputError('the team server cannot revoke its own device')
    if (record.revokedAt == null) this.caStore.revoke(record.serial, new Date())
    const der = createCrl({ caCertPem: identity.caCertPem, caKey: identity.caKey, number: this.caStore.nextCrlNumber(), revoked: this.caStore.revokedList() })
    await writeFileAtomic(serverPaths(this.init.config.dataDir).crl, der, { mode: 0o644 })
    // Adopting it drops the device here and sends the CRL to every connected agent.
    this.trust.offerCrl(der)
    this.init.log(`revoked ${record.deviceName} (${record.deviceId})`)
    return this.devices().find(d => d.deviceId === record.deviceId)!
  }

  folders (): FolderSummary[] {
    return this.central.summaries()
  }

  async setFolderMember (folder: string, deviceId: string, role: 'editor' | 'viewer' | 'remove'): Promise<FolderSummary> {
    await this.central.share(folder, { deviceId }, role)
    return this.folders().find(f => f.id === folder)!
  }

  async setFolderUser (folder: string, user: string, role: 'editor' | 'viewer' | 'remove'): Promise<FolderSummary> {
    await this.central.share(folder, { user }, role)
    return this.folders().find(f => f.id === folder)!
  }

  listFolder (folder: string, dir: string): FolderEntry[] {
    return this.central.list(folder, dir).map(entryOf)
  }

  fileInfo (folder: string, path: string, version?: FileIdentity): FolderEntry | undefined {
    const record = version === undefined ? this.central.record(folder, path) : this.central.version(folder, path, version)
    return record === undefined ? undefined : entryOf(record)
  }

  walkFolder (folder: string, dir: string): FolderEntry[] {
    return [...this.central.files(folder, dir)].map(entryOf)
  }

  async * readFile (folder: string, path: string, range?: { start: number, end: number }, version?: FileIdentity): AsyncGenerator<Uint8Array> {
    const record = version === undefined ? this.central.record(folder, path) : this.central.version(folder, path, version)
    if (record === undefined || record.deleted || record.type !== 'file') throw new InvalidInputError(`folder ${folder} has no file "${path}"${version === undefined ? '' : ' in that version'}`)
    yield * this.central.read(record, range?.start, range?.end)
  }

  async writeFile (folder: string, path: string, source: AsyncIterable<Uint8Array>, options: { by: string, mtimeMs?: number }): Promise<FolderEntry> {
    return entryOf(await this.central.write(folder, path, source, options))
  }

  versions (folder: string, path: string): ServerVersion[] {
    return this.central.versions(folder, path)
  }

  async restoreVersion (folder: string, path: string, at: Date, actor: string): Promise<ServerVersion> {
    return await this.central.restore(folder, path, at, actor)
  }

  retention (folder: string): RetentionPolicy {
    this.central.versions(folder, '') // throws for an unknown folder
    return this.history.retention(folder)
  }

  setRetention (folder: string, policy: RetentionPolicy): RetentionPolicy {
    this.retention(folder)
    this.history.setRetention(folder, policy)
    this.central.pruneVersions()
    return this.history.retention(folder)
  }

  /** Answers devices' share-link requests (`/aerie/share/1.0.0`) with `handler`. */
  async serveDeviceShares (handler: DeviceShareHandler): Promise<void> {
    await this.host.libp2p.handle(SHARE_PROTOCOL, async (stream, connection) => {
      const identity = this.host.identityOf(connection.remotePeer.toString())
      await answerOnce(stream, { maxRequest: MAX_SHARE_REQUEST, maxResponse: MAX_SHARE_RESPONSE }, parseShareRequest, async (request) => {
        if (identity === undefined) throw new Error('unknown device')
        return await handler(request, { deviceId: identity.deviceId, user: identity.user, address: connection.remoteAddr.toString() })
      })
    })
  }

  /**
   * Answers devices' endpoint backups (`/aerie/backup/1.1.0` and 1.0.0) with the service `create` makes
   * around the server's one chunk store, so backups dedupe with the central copy.
   */
  async serveBackups (create: (store: ChunkStore) => BackupService): Promise<BackupService> {
    const service = create(this.store)
    // 1.0.0 is 1.1.0 without compressed puts: one handler answers devices of either version.
    await this.host.libp2p.handle([BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0], async (stream, connection) => {
      const identity = this.host.identityOf(connection.remotePeer.toString())
      if (identity === undefined) { stream.abort(new Error('unknown device')); return }
      await service.serve(stream, { deviceId: identity.deviceId, deviceName: identity.deviceName, user: identity.user, address: connection.remoteAddr.toString() })
    }, { maxInboundStreams: 8 })
    return service
  }

  /** The server's one chunk store (backups and the central copy share it): what a scrub reads back. */
  chunkStore (): ChunkStore {
    return this.store
  }

  /** Every central-copy file, current and kept in the history, with its chunks: what a scrub maps damage to. */
  * centralFileChunks (): Generator<CentralFileChunks> {
    for (const folder of this.central.folderIds()) {
      for (const r of this.index.localFiles(folder)) {
        if (!r.deleted && r.type === 'file') yield { folder, path: r.path, version: 'current', chunks: r.chunks }
      }
    }
    // Every folder's kept versions, also of folders no longer served, and without list's limit.
    for (const v of this.history.all()) yield { folder: v.folder, path: v.path, version: 'kept', chunks: v.record.chunks }
  }

  /** Fetches again from members what central-copy files a scrub named need (CentralCopy.repair). */
  async repairCentralCopy (files: ReadonlyArray<{ folder: string, path: string, version: 'current' | 'kept' }>): Promise<CentralRepair> {
    return await this.central.repair(files)
  }

  roleOf (folder: string, device: { deviceId: string, user: string }): FolderRole | undefined {
    return this.central.roleOf(folder, device)
  }

  async storage (): Promise<ChunkStoreStats> {
    return await this.store.stats()
  }

  async stop (): Promise<void> {
    await this.host?.libp2p.unhandle(SHARE_PROTOCOL).catch(() => {})
    await this.host?.libp2p.unhandle([BACKUP_PROTOCOL, BACKUP_PROTOCOL_1_0]).catch(() => {})
    await this.central?.stop()
    await this.host?.stop()
    await this.store?.close()
    this.history?.close()
    this.index?.close()
    this.caStore?.close()
  }
}

function entryOf (r: FileRecord): FolderEntry {
  return { name: r.path.slice(r.path.lastIndexOf('/') + 1), path: r.path, type: r.type, size: r.size, mtimeMs: r.mtimeMs, deleted: r.deleted, modifiedBy: r.modifiedBy }
}
