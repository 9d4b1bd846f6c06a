import type { ChunkStoreStats } from '@aerie/core'

/**
 * What the web layer (src/web: admin API and UI) asks of the running team server: the
 * organisation's CA, its devices, the folders of the central copy and the store. The web
 * layer never reaches libp2p, the CA key or the stores directly; team-server.ts implements this.
 */
export interface TeamServerApi {
  org(): OrgSummary
  devices(): DeviceSummary[]
  /** A one-time enrollment code for a new device of `user` (text; the UI draws it as a QR code too). */
  createEnrollmentCode(request: { user: string, deviceName?: string, ttlMs: number }): EnrollmentCodeIssued
  /** Revokes a device (id, unique id prefix or name): a new CRL goes to every connected agent at once. */
  revokeDevice(device: string): Promise<DeviceSummary>
  folders(): FolderSummary[]
  storage(): Promise<ChunkStoreStats>
}

export interface OrgSummary {
  name: string
  /** SHA-256 fingerprint of the root CA certificate, hex. */
  caFingerprint: string
  /** The server's own device id and libp2p addresses (agents enroll and sync against these). */
  deviceId: string
  addresses: string[]
}

export interface DeviceSummary {
  deviceId: string
  deviceName: string
  user: string
  issuedAt: string
  revokedAt?: string
  online: boolean
  lastSeen?: string
  address?: string
}

export interface EnrollmentCodeIssued {
  code: string
  user: string
  deviceName?: string
  expiresAt: string
}

export interface FolderSummary {
  id: string
  label: string
  owner: string
  members: Array<{ deviceId: string, role: 'owner' | 'editor' | 'viewer' }>
  files: number
  bytes: number
  /** Connected members, by device id. */
  online: string[]
}
