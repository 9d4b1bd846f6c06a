import {
  AerieError, brakeAdvice, createAerieHost, createEnrollmentIssuer, findDevice, InvalidInputError, libp2pKeyFromPem, MAX_SHARE_REQUEST, MAX_SHARE_RESPONSE, NotConfiguredError, openCaStore, openFolderIndex, openMembershipStore,
  parseShareRequest, parseShareResponse, requestOnce, SHARE_PROTOCOL,
  readDeviceCertificate, SyncEngine, TrustStore, tuneHeapForTransfers, unlockCAKey
} from '@aerie/core'
import { fileURLToPath } from 'node:url'
import { startControlServer } from './control-server.ts'
import { createBackupAgent } from './backup/backup-agent.ts'
import { FolderOperations } from './folder-operations.ts'
import { KnownPeers } from './known-peers.ts'
import { settingsOf, withSettings } from './device-settings.ts'
import { LogRing } from './log-ring.ts'
import { createUiApi } from './ui/ui-api.ts'
import { ensureUiSecret } from './ui/ui-secret.ts'
import { startUiServer } from './ui/ui-server.ts'
import type { DeviceHome, StaticPeer } from './device-home.ts'
import type { DeviceSettings } from './device-settings.ts'
import type { TokenBucketStats, AerieHost, CaStore, DeviceShareRequest, DeviceShareResponse, EnrollmentIssuer, FolderIndex, FolderOffer, PullProgress, SyncFolderStatus } from '@aerie/core'
import type { ControlRoutes, ControlServer } from './control-server.ts'
import type { SyncEventKind, UiApi } from './ui/ui-api.ts'
import type { UiServer } from './ui/ui-server.ts'
import type { BackupAgent } from './backup/backup-agent.ts'

/**
 * The agent: what `aerie run` runs (and, later, Electron's utility process). It holds
 * the device's authenticated libp2p host, keeps its static peers connected, enforces
 * and forwards CRLs, enrolls devices when it is the CA holder, answers the control API
 * (the CLI) and serves the UI (ui/ui-server.ts) with its JSON API.
 */
export interface AgentOptions {
  home: DeviceHome
  /** Overrides config.json's listen addresses. */
  listen?: string[]
  mdns?: boolean
  /** The CA passphrase, on the CA holder: without it the agent cannot enroll devices. */
  caPassphrase?: string
  log(line: string): void
  /** Live transfer progress (the CLI draws a progress line from it). */
  onProgress?(progress: PullProgress): void
  /** Seconds between full rescans (default 60); the watcher catches changes in between. */
  rescanSeconds?: number
  /** `aerie stop` asked the agent to stop: the owner of the process stops it (as on Ctrl-C). */
  onStopRequested?(): void
  /** Serve the UI on 127.0.0.1 (default true). */
  ui?: boolean
  /** The UI's port (default: any free one); the first-run Enroll screen's, so its page carries on. */
  uiPort?: number
}

export interface PeerStatus {
  deviceId: string
  deviceName: string
  user: string
  peerId: string
  connected: boolean
  address?: string
  lastSeen?: string
  /** Bytes of index records and chunks exchanged with it since this agent started. */
  bytesIn: number
  bytesOut: number
}

export interface AgentStatus {
  deviceId: string
  deviceName: string
  user: string
  peerId: string
  addresses: string[]
  caHolder: boolean
  enrollmentOpen: boolean
  /** True once a peer has refused us because this device was revoked. */
  revoked: boolean
  crlNumber?: string
  peers: PeerStatus[]
  folders: SyncFolderStatus[]
  /** Folders members offered to this device that are not set up here yet. */
  offers: FolderOffer[]
  /** The name in this device's certificate (deviceName is the one in config.json). */
  certificateName: string
  settings: DeviceSettings
  /** What the bandwidth limits did since the agent started. */
  bandwidth: { upload: TokenBucketStats, download: TokenBucketStats }
}

const REDIAL_MS = 5_000
const UI_DIR = fileURLToPath(new URL('../browser/', import.meta.url))

export class Agent {
  private readonly options: AgentOptions
  private host!: AerieHost
  private trust!: TrustStore
  private control?: ControlServer
  private caStore?: CaStore
  private issuer?: EnrollmentIssuer
  private known!: KnownPeers
  private redialTimer?: NodeJS.Timeout
  private stopped = false
  /** config.json's peers, plus every address `peer add` dialled while we run. */
  private staticPeers: StaticPeer[] = []
  private identity!: ReturnType<typeof readDeviceCertificate>
  private caHolder = false
  /** Set when a peer tells us our certificate is revoked: there is no point redialling. */
  private revoked = false
  private index!: FolderIndex
  private sync!: SyncEngine
  private ui?: UiServer
  private uiApi?: UiApi
  private backup?: BackupAgent
  /** What a person does to folders (UI), beside what the control API does. */
  folders!: FolderOperations
  /** Recent log lines, for the UI. */
  readonly logs = new LogRing()
  private settings!: DeviceSettings

  private constructor (options: AgentOptions) {
    // Every line also goes to the ring, whoever logs it (host, sync, backup).
    this.options = { ...options, log: (line) => { this.logs.add(line); options.log(line) } }
  }

  static async start (options: AgentOptions): Promise<Agent> {
    tuneHeapForTransfers()
    const agent = new Agent(options)
    await agent.boot()
    return agent
  }

  private async boot (): Promise<void> {
    const { home, log } = this.options
    const config = await home.readConfig()
    this.settings = settingsOf(config)
    this.staticPeers = config.peers
    const certificate = await home.read('device.crt')
    const ca = await home.read('ca.crt')
    this.identity = readDeviceCertificate(certificate)
    this.trust = new TrustStore({ credentials: { certificate, ca }, crl: await home.readBytes('crl.der') })
    this.trust.addEventListener('crl', (evt) => {
      home.write('crl.der', evt.detail.der).catch((err: Error) => { log(`could not save the CRL: ${err.message}`) })
    })
    this.known = await KnownPeers.load(home)

    this.caHolder = await home.isCaHolder()
    if (this.caHolder) {
      if (this.options.caPassphrase == null) {
        log('CA key is locked (no passphrase given): this agent will not enroll devices; set AERIE_CA_PASSPHRASE to enable enrollment')
      } else {
        const caKey = unlockCAKey(await home.read('ca/ca-key.pem'), this.options.caPassphrase)
        this.caStore = openCaStore(home.path('ca/ca.db'))
        this.issuer = createEnrollmentIssuer({
          caCertPem: ca,
          caKey,
          store: this.caStore,
          audit: (event) => { log(`${event.action} from ${event.remoteAddress}: ${event.detail}`) }
        })
      }
    }

    this.host = await createAerieHost({
      privateKey: libp2pKeyFromPem(await home.read('device-key.pem')),
      trust: this.trust,
      listen: this.options.listen ?? config.listen,
      issuer: this.issuer,
      mdns: this.options.mdns ?? config.mdns,
      lanOnly: this.settings.lanOnly,
      log
    })
    this.host.addEventListener('device:connect', (evt) => {
      const { identity, remoteAddress } = evt.detail
      log(`connected to ${identity.deviceName} (${identity.deviceId}, ${identity.user}) at ${remoteAddress}`)
      this.known.seen(identity, remoteAddress, evt.detail.direction === 'outbound').catch(() => {})
    })
    this.host.addEventListener('self:revoked', () => {
      if (this.revoked) return
      this.revoked = true
      log('this device has been revoked by the organisation: it will not connect again (ask your administrator to enroll it anew)')
    })
    this.host.addEventListener('device:disconnect', (evt) => {
      log(`disconnected from ${evt.detail.identity?.deviceName ?? evt.detail.peerId}`)
    })

    this.index = openFolderIndex(home.path('index.db'), this.identity.deviceId)
    const memberships = await openMembershipStore(home.path('memberships'), { caCertificate: ca, crl: () => this.trust.currentCrl() })
    for (const problem of memberships.problems) log(problem.message)
    this.sync = await SyncEngine.start({
      host: this.host,
      index: this.index,
      deviceId: this.identity.deviceId,
      memberships,
      keyPem: await home.read('device-key.pem'),
      certificate,
      caCertificate: ca,
      crl: () => this.trust.currentCrl(),
      rescanMs: this.options.rescanSeconds === undefined ? undefined : this.options.rescanSeconds * 1000,
      teamServer: () => this.known.teamServer()?.deviceId,
      uploadLimit: this.settings.uploadLimit,
      downloadLimit: this.settings.downloadLimit,
      minDiskFree: this.settings.minDiskFree,
      log
    })
    if (this.options.onProgress !== undefined) this.sync.addEventListener('progress', (evt) => { this.options.onProgress?.(evt.detail) })
    this.sync.addEventListener('pulled', (evt) => {
      const p = evt.detail
      log(`folder ${p.folder}: synced ${p.doneFiles} of ${p.needFiles} items, ${p.networkBytes} bytes from peers, ${p.localBytes} reused locally${p.problems > 0 ? `, ${p.problems} not yet` : ''}`)
    })
    const said = new Map<string, string>()
    this.sync.addEventListener('state', (evt) => {
      const s = evt.detail
      // Rescans repeat the same state every minute: say it once, when it starts.
      if (s.state === said.get(s.id) || s.state === 'scanning') return
      said.set(s.id, s.state)
      if (s.state === 'needs-confirmation') log(`folder ${s.id}: ${brakeAdvice(s)}`)
      if (s.state === 'error') log(`folder ${s.id}: ${s.error ?? 'error'}`)
    })
    await this.reloadFolders()

    this.backup = createBackupAgent({ home, host: this.host, log, knowsTeamServer: () => this.known.teamServer() !== undefined })
    this.folders = new FolderOperations({ home, index: this.index, sync: this.sync, reload: async () => { await this.reloadFolders() } })
    const control = this.controlRoutes()
    this.control = await startControlServer(home, control)
    if (this.options.ui !== false) await this.startUi(control)
    if (this.settings.lanOnly) log('LAN-only mode: no connections to or from addresses outside the local network')
    log(`agent ${this.settings.deviceName} (${this.identity.deviceId}) listening on ${this.host.addresses().join(', ')}`)
    if (this.ui !== undefined) log(`UI at ${this.ui.url}/ (\`aerie ui\` prints the link that opens it)`)
    this.redialStaticPeers()
    this.backup.start()
  }

  private controlRoutes (): ControlRoutes {
    return {
      'POST /v1/folders/reload': async () => { await this.reloadFolders(); return { folders: this.folderStatus() } },
      'POST /v1/folders/confirm': async (body) => await this.sync.confirmDeletions(String((body as { id?: unknown } | undefined)?.id ?? '')),
      'POST /v1/folders/rescan': async (body) => await this.sync.scanNow(String((body as { id?: unknown } | undefined)?.id ?? '')),
      'POST /v1/folders/share': async (body) => {
        const { id, deviceId, user, role } = (body ?? {}) as { id?: unknown, deviceId?: unknown, user?: unknown, role?: unknown }
        if ((typeof deviceId !== 'string' && typeof user !== 'string') || !['editor', 'viewer', 'remove'].includes(String(role))) {
          throw new InvalidInputError('sharing needs a device id or a user, and a role (editor, viewer or remove)')
        }
        const member = typeof user === 'string' ? { user } : { deviceId: this.resolveDevice(deviceId as string) }
        return await this.sync.share(String(id ?? ''), member, role as 'editor' | 'viewer' | 'remove')
      },
      'POST /v1/shares': async (body) => await this.askTeamServerShares(parseShareRequest((body as { request?: unknown } | undefined)?.request)),
      'POST /v1/versions/server': async (body) => {
        const { folder, path } = (body ?? {}) as { folder?: unknown, path?: unknown }
        return { versions: await this.sync.serverVersions(String(folder ?? ''), String(path ?? '')) }
      },
      'POST /v1/versions/server-restore': async (body) => {
        const { folder, path, at } = (body ?? {}) as { folder?: unknown, path?: unknown, at?: unknown }
        const when = new Date(String(at ?? ''))
        if (Number.isNaN(when.getTime())) throw new InvalidInputError('a restore needs the time as an ISO date-time')
        return await this.sync.serverRestore(String(folder ?? ''), String(path ?? ''), when)
      },
      'GET /v1/status': async () => this.status(),
      'GET /v1/ui': async () => {
        if (this.ui === undefined) throw new NotConfiguredError('this agent runs without its UI')
        return { url: this.ui.url }
      },
      'POST /v1/stop': async () => {
        // After this answer has gone out.
        setImmediate(() => { if (this.options.onStopRequested != null) this.options.onStopRequested(); else void this.stop() })
        return { stopping: true }
      },
      'POST /v1/settings': async (body) => await this.changeSettings(body),
      'POST /v1/crl/reload': async () => ({ adopted: await this.reloadCrl() }),
      'POST /v1/peers/dial': async (body) => {
        const address = String((body as { address?: unknown } | undefined)?.address ?? '')
        const identity = await this.host.dial(address, { signal: AbortSignal.timeout(15_000) })
        this.staticPeers = [...this.staticPeers.filter(p => p.address !== address), { deviceId: identity.deviceId, address }]
        return { deviceId: identity.deviceId, deviceName: identity.deviceName }
      },
      ...this.backup?.routes
    }
  }

  private async startUi (control: ControlRoutes): Promise<void> {
    const api = createUiApi({ status: () => this.status(), logs: this.logs, folders: this.folders, home: this.options.home, backup: this.backup, control, onEvent: (listener) => this.onEvent(listener) })
    this.uiApi = api
    this.ui = await startUiServer({ secret: await ensureUiSecret(this.options.home), routes: api.routes, snapshot: api.status, subscribe: api.subscribe, staticDir: UI_DIR, port: this.options.uiPort })
  }

  /** The sync's and the peers' changes, for live views. Returns how to stop listening. */
  onEvent (listener: (kind: SyncEventKind, detail?: { folder: string, doneBytes: number }) => void): () => void {
    const progress = (evt: CustomEvent<PullProgress>): void => { listener('progress', evt.detail) }
    const pulled = (evt: CustomEvent<PullProgress>): void => { listener('pulled', evt.detail) }
    const state = (): void => { listener('state') }
    const peer = (): void => { listener('peer') }
    this.sync.addEventListener('progress', progress)
    this.sync.addEventListener('pulled', pulled)
    this.sync.addEventListener('state', state)
    this.host.addEventListener('device:connect', peer)
    this.host.addEventListener('device:disconnect', peer)
    return () => {
      this.sync.removeEventListener('progress', progress)
      this.sync.removeEventListener('pulled', pulled)
      this.sync.removeEventListener('state', state)
      this.host.removeEventListener('device:connect', peer)
      this.host.removeEventListener('device:disconnect', peer)
    }
  }

  status (): AgentStatus {
    const connected = new Map(this.host.connectedDevices().map(d => [d.identity.deviceId, d]))
    const peers: PeerStatus[] = this.known.list().map(peer => ({
      deviceId: peer.deviceId,
      deviceName: peer.deviceName,
      user: peer.user,
      peerId: peer.peerId,
      connected: connected.has(peer.deviceId),
      address: connected.get(peer.deviceId)?.remoteAddress ?? peer.address,
      lastSeen: peer.lastSeen,
      ...this.sync.peerCounters(peer.deviceId)
    }))
    for (const device of connected.values()) {
      if (!peers.some(p => p.deviceId === device.identity.deviceId)) {
        peers.push({ ...pick(device.identity), peerId: device.peerId, connected: true, address: device.remoteAddress, ...this.sync.peerCounters(device.identity.deviceId) })
      }
    }
    return {
      ...pick(this.identity),
      deviceName: this.settings.deviceName,
      certificateName: this.identity.deviceName,
      settings: this.settings,
      bandwidth: this.sync.bandwidthStats(),
      peerId: this.host.peerId.toString(),
      addresses: this.host.addresses(),
      caHolder: this.caHolder,
      revoked: this.revoked,
      enrollmentOpen: this.issuer != null,
      crlNumber: this.trust.currentCrl()?.number.toString(),
      peers,
      folders: this.folderStatus(),
      offers: this.sync.offers()
    }
  }

  folderStatus (): SyncFolderStatus[] {
    return this.sync.folderStatus()
  }

  /** Share links are made by the team server, for this device's user (`aerie share …`). */
  private async askTeamServerShares (request: DeviceShareRequest): Promise<DeviceShareResponse> {
    const server = this.host.connectedDevices().find(d => d.identity.role === 'server')
    const connection = server === undefined ? undefined : this.host.libp2p.getConnections().find(c => c.remotePeer.toString() === server.peerId && c.status === 'open')
    if (connection === undefined) {
      throw new NotConfiguredError(this.known.teamServer() === undefined
        ? 'share links are made by the organisation\'s team server, and this device has not met one'
        : 'the team server is not connected right now; try again when it is online')
    }
    const answer = await requestOnce(connection, SHARE_PROTOCOL, request, { maxRequest: MAX_SHARE_REQUEST, maxResponse: MAX_SHARE_RESPONSE }, parseShareResponse)
    if (answer.type === 'error') throw new AerieError(answer.code, `the team server says: ${answer.message}`)
    return answer
  }

  /** A device named by its id, an unambiguous prefix of it, or its name, among the devices we know. */
  private resolveDevice (name: string): string {
    const known = [...this.known.list(), ...this.host.connectedDevices().map(d => d.identity)]
    const found = findDevice(known, name)
    if (found !== undefined) return found.deviceId
    // A device this one has not met yet can still be named by its full id.
    if (/^[a-z2-7]{16}$/.test(name)) return name
    throw new InvalidInputError(`no known device "${name}"; \`aerie status\` lists the devices this one has met, or give the full 16-character device id`)
  }

  /** Saves the settings given (config.json) and applies them now. */
  private async changeSettings (patch: unknown): Promise<DeviceSettings> {
    const { home, log } = this.options
    const config = withSettings(await home.readConfig(), patch)
    await home.writeConfig(config)
    const before = this.settings
    this.settings = settingsOf(config)
    if (before.lanOnly !== this.settings.lanOnly) {
      this.host.setLanOnly(this.settings.lanOnly)
      log(this.settings.lanOnly ? 'LAN-only mode on: no connections to or from addresses outside the local network' : 'LAN-only mode off')
    }
    if (before.uploadLimit !== this.settings.uploadLimit || before.downloadLimit !== this.settings.downloadLimit) {
      this.sync.setLimits({ upload: this.settings.uploadLimit, download: this.settings.downloadLimit })
      log(`bandwidth limits: upload ${rateText(this.settings.uploadLimit)}, download ${rateText(this.settings.downloadLimit)}`)
    }
    if (before.minDiskFree !== this.settings.minDiskFree) {
      this.sync.setMinDiskFree(this.settings.minDiskFree)
      log(`pulls keep ${this.settings.minDiskFree}% of each disk free`)
    }
    if (before.deviceName !== this.settings.deviceName) log(`device name is now "${this.settings.deviceName}" here (its certificate keeps "${this.identity.deviceName}")`)
    return this.settings
  }

  /** Starts folders that config.json gained and stops those it lost (deleting nothing). */
  async reloadFolders (): Promise<void> {
    const { log, home } = this.options
    const folders = (await home.readConfig()).folders
    const { added, removed } = await this.sync.setFolders(folders)
    for (const id of removed) log(`folder ${id} removed: no longer synced (its files are untouched)`)
    for (const id of added) {
      const folder = folders.find(f => f.id === id)!
      log(`folder ${id} (${folder.label}) at ${folder.path}`)
    }
  }

  /** `aerie revoke` wrote a new CRL: adopt it, which drops the device and tells every peer. */
  async reloadCrl (): Promise<boolean> {
    const der = await this.options.home.readBytes('crl.der')
    return der != null && this.trust.offerCrl(der)
  }

  private redialStaticPeers (): void {
    const tick = async (): Promise<void> => {
      if (this.revoked) return
      const connected = new Set(this.host.connectedDevices().map(d => d.identity.deviceId))
      const targets = [...this.staticPeers, ...this.known.list().filter(p => p.address != null).map(p => ({ deviceId: p.deviceId, address: p.address! }))]
      const tried = new Set<string>()
      for (const peer of targets) {
        if ((peer.deviceId != null && connected.has(peer.deviceId)) || tried.has(peer.address)) continue
        tried.add(peer.address)
        await this.host.dial(peer.address, { signal: AbortSignal.timeout(REDIAL_MS) }).catch(() => {})
      }
    }
    const loop = (): void => {
      // A tick that was dialling when stop() came must not schedule another.
      if (this.stopped) return
      this.redialTimer = setTimeout(() => { tick().finally(loop) }, REDIAL_MS)
    }
    tick().finally(loop)
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.redialTimer)
    await this.backup?.stop()
    await this.ui?.close()
    this.uiApi?.close()
    await this.control?.close()
    await this.sync?.stop()
    await this.host.stop()
    this.index?.close()
    this.caStore?.close()
  }
}

function rateText (bytesPerSecond: number): string {
  return bytesPerSecond === 0 ? 'no limit' : `${bytesPerSecond} bytes/s`
}

function pick (identity: { deviceId: string, deviceName: string, user: string }): { deviceId: string, deviceName: string, user: string } {
  return { deviceId: identity.deviceId, deviceName: identity.deviceName, user: identity.user }
}
