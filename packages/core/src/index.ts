/**
 * @aerie/core — Aerie's engine: a library with no UI and no HTTP framework.
 *
 * - pki: the organisation's root CA, device keys and certificates, CRLs, enrollment codes
 * - net: the libp2p host whose connections are certificate-authenticated before any
 *   protocol is served, CRL propagation, enrollment over the same handshake
 * - chunking, index, scan: content-defined chunks, the folder index, the scanner and watcher
 * - protocol, sync: wire messages, and the sync engine (membership, index exchange, puller,
 *   conflicts, version history) that keeps folders identical across members
 *
 * @example
 * ```ts
 * import { createOrgCA, generateDeviceKey, libp2pKeyFromPem, TrustStore, createAerieHost, SyncEngine } from '@aerie/core'
 *
 * const ca = await createOrgCA({ orgName: 'Example', passphrase: 'a long passphrase' })
 * const { privateKeyPem } = generateDeviceKey()
 * // ... issue a certificate (see README); open the folder index and membership store
 * // (openFolderIndex, openMembershipStore), then:
 * const trust = new TrustStore({ credentials: { certificate, ca: ca.certPem } })
 * const host = await createAerieHost({ privateKey: libp2pKeyFromPem(privateKeyPem), trust, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * const sync = await SyncEngine.start({ host, index, deviceId, memberships, keyPem: privateKeyPem, certificate,
 *   caCertificate: ca.certPem, crl: () => trust.currentCrl(), log: console.log })
 * await sync.setFolders([{ id: 'team', path: '/home/ada/Team', label: 'Team' }])
 * ```
 */
export * from './errors.ts'
export * from './pki/index.ts'
export * from './chunking/index.ts'
export * from './index/index.ts'
export * from './scan/index.ts'
export * from './sync/index.ts'
export * from './net/index.ts'
export * from './protocol/index.ts'
export * from './store/index.ts'
export * from './share/index.ts'
export * from './backup/index.ts'
export { writeFileAtomic } from './util/atomic-file.ts'
export { readFully } from './util/read-fully.ts'
export { releaseBytes } from './util/release-bytes.ts'
export { parseDuration } from './util/duration.ts'
export { parseRate } from './util/rate.ts'
export { formatBytes } from './util/format-bytes.ts'
export { DiskRoom, KEEP_FREE_SHARE } from './util/disk-room.ts'
export type { DiskRoomInit } from './util/disk-room.ts'
export { TokenBucket } from './util/token-bucket.ts'
export type { TokenBucketInit, TokenBucketStats } from './util/token-bucket.ts'
export { inTransaction, migrateSchema } from './util/sqlite-schema.ts'
export { base32Encode, base32Decode } from './pki/base32.ts'
export { isValidEmail, isValidName, NAME_RULE } from './pki/names.ts'
