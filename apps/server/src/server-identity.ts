import { randomBytes, X509Certificate } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import {
  createCrl, createCsr, createKeyring, createOrgCA, generateDeviceKey, issueDeviceCertificate, issueWebCertificate, keyringFiles, keyringState,
  NotConfiguredError, openBlob, openCaStore, readDeviceCertificate, sealBlob, unlockCAKey, unlockWithLocalSecret, unlockWithPassphrase, writeFileAtomic
} from '@aerie/core'
import type { CaKey, DeviceIdentity, KeyringFiles } from '@aerie/core'
import type { KeyObject } from 'node:crypto'
import type { ServerConfig } from './config.ts'

/**
 * The team server's keys and certificates, in its data directory:
 *
 *   keys/data-key.json      the data key, wrapped by the admin passphrase (and, unless locked, by keys/local-secret)
 *   ca/ca.crt, ca/ca-key.pem  the organisation's root CA; its key is encrypted with a random
 *                           passphrase that is itself sealed by the data key (ca/ca-passphrase.sealed)
 *   ca/ca.db                enrollment codes, issued devices, revocations
 *   device/                 the server's own device key, certificate and the newest CRL: it is a peer too
 *   web/                    the HTTPS certificate the CA issued for the console
 *   setup-token             the one-time token of the first-admin setup URL (0600)
 *
 * Everything the CA can do hangs off the data key, so a locked server can do nothing until unlocked.
 */
export interface ServerIdentity {
  dataKey: KeyObject
  caCertPem: string
  caKey: CaKey
  deviceKeyPem: string
  deviceCertPem: string
  device: DeviceIdentity
  web: { certPem: string, keyPem: string }
  setupToken: string
  /** Set on the first run when no passphrase was given: shown once, for the admin to keep. */
  recoveryPassphrase?: string
}

export function serverPaths (dataDir: string): { keys: KeyringFiles, caCert: string, caKey: string, caPassphrase: string, caDb: string, deviceKey: string, deviceCert: string, crl: string, webCert: string, webKey: string, setupToken: string, store: string } {
  const p = (...parts: string[]): string => join(dataDir, ...parts)
  return {
    keys: keyringFiles(p('keys')),
    caCert: p('ca', 'ca.crt'),
    caKey: p('ca', 'ca-key.pem'),
    caPassphrase: p('ca', 'ca-passphrase.sealed'),
    caDb: p('ca', 'ca.db'),
    deviceKey: p('device', 'device-key.pem'),
    deviceCert: p('device', 'device.crt'),
    crl: p('device', 'crl.der'),
    webCert: p('web', 'web.crt'),
    webKey: p('web', 'web.key'),
    setupToken: p('setup-token'),
    store: p('store')
  }
}

const SERVER_DEVICE_NAME = 'team-server'
/** A web certificate is renewed at start when it has less than this left. */
const RENEW_WEB_BEFORE_MS = 30 * 86_400_000

/** Whether the data key can be opened without a passphrase ('missing' on a first run). */
export async function keyState (config: ServerConfig): Promise<'missing' | 'locked' | 'unattended'> {
  return await keyringState(serverPaths(config.dataDir).keys)
}

/** The data key of a server made before: with the passphrase when given, else the local secret (not in locked mode). */
export async function openDataKey (config: ServerConfig, passphrase: string | undefined, purpose = '(AERIE_PASSPHRASE or --passphrase-file)'): Promise<KeyObject> {
  const keys = serverPaths(config.dataDir).keys
  const state = await keyringState(keys)
  if (state === 'missing') throw new NotConfiguredError(`no team server keys in ${config.dataDir}: is --data right?`)
  if (passphrase !== undefined) return await unlockWithPassphrase(keys, passphrase)
  if (state === 'unattended') return await unlockWithLocalSecret(keys)
  throw new NotConfiguredError(`the server is locked: it needs the admin passphrase ${purpose}`)
}

/**
 * Opens the server's identity, creating it all on the first run. `passphrase` is needed on
 * the first run in locked mode and at every start of a locked server; otherwise the local
 * secret opens the data key (and a first run without one makes a recovery passphrase).
 */
export async function openServerIdentity (config: ServerConfig, passphrase?: string): Promise<ServerIdentity> {
  const paths = serverPaths(config.dataDir)
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  for (const dir of ['keys', 'ca', 'device', 'web']) await mkdir(join(config.dataDir, dir), { recursive: true, mode: 0o700 })
  const state = await keyringState(paths.keys)
  let recoveryPassphrase: string | undefined
  let dataKey: KeyObject
  if (state === 'missing') {
    if (passphrase === undefined) {
      if (config.locked) throw new NotConfiguredError('a locked server needs the admin passphrase on its first run: set AERIE_PASSPHRASE or use --passphrase-file')
      recoveryPassphrase = randomBytes(18).toString('base64url')
    }
    dataKey = await createKeyring(paths.keys, { passphrase: passphrase ?? recoveryPassphrase!, locked: config.locked })
  } else {
    dataKey = await openDataKey(config, passphrase, 'to start (AERIE_PASSPHRASE, --passphrase-file, or unlock it in the console)')
  }

  if (!await exists(paths.caCert)) await createCa(config, paths, dataKey)
  const caCertPem = await readFile(paths.caCert, 'utf8')
  const caPassphrase = openBlob(dataKey, await readFile(paths.caPassphrase), 'ca-passphrase').toString('utf8')
  const caKey = unlockCAKey(await readFile(paths.caKey, 'utf8'), caPassphrase)
  if (!await exists(paths.deviceCert)) await certifyServerDevice(config, paths, caCertPem, caKey)
  const deviceCertPem = await readFile(paths.deviceCert, 'utf8')
  const web = await webCertificate(config, paths, caCertPem, caKey)
  if (!await exists(paths.setupToken)) await writeFileAtomic(paths.setupToken, randomBytes(32).toString('base64url'), { mode: 0o600 })
  return {
    dataKey,
    caCertPem,
    caKey,
    deviceKeyPem: await readFile(paths.deviceKey, 'utf8'),
    deviceCertPem,
    device: readDeviceCertificate(deviceCertPem),
    web,
    setupToken: (await readFile(paths.setupToken, 'utf8')).trim(),
    ...(recoveryPassphrase === undefined ? {} : { recoveryPassphrase })
  }
}

async function createCa (config: ServerConfig, paths: ReturnType<typeof serverPaths>, dataKey: KeyObject): Promise<void> {
  // The CA key's own passphrase is random and sealed by the data key: one secret to guard, not two.
  const caPassphrase = randomBytes(32).toString('base64url')
  const ca = await createOrgCA({ orgName: config.org, passphrase: caPassphrase })
  await writeFileAtomic(paths.caPassphrase, sealBlob(dataKey, Buffer.from(caPassphrase), 'ca-passphrase'), { mode: 0o600 })
  await writeFileAtomic(paths.caKey, ca.encryptedKeyPem, { mode: 0o600 })
  await writeFileAtomic(paths.caCert, ca.certPem, { mode: 0o644 })
}

async function certifyServerDevice (config: ServerConfig, paths: ReturnType<typeof serverPaths>, caCertPem: string, caKey: CaKey): Promise<void> {
  const keyPem = await exists(paths.deviceKey) ? await readFile(paths.deviceKey, 'utf8') : generateDeviceKey().privateKeyPem
  await writeFileAtomic(paths.deviceKey, keyPem, { mode: 0o600 })
  const issued = issueDeviceCertificate({ caCertPem, caKey, csrPem: createCsr({ privateKeyPem: keyPem, deviceName: SERVER_DEVICE_NAME }), user: `server@${hostnameForEmail()}`, deviceName: SERVER_DEVICE_NAME, role: 'server' })
  const store = openCaStore(paths.caDb)
  try {
    store.recordIssued({ serial: issued.serial, deviceId: issued.deviceId, peerId: issued.peerId, user: `server@${hostnameForEmail()}`, deviceName: SERVER_DEVICE_NAME, certPem: issued.certPem, issuedAt: new Date() })
    await writeFileAtomic(paths.crl, createCrl({ caCertPem, caKey, number: store.nextCrlNumber(), revoked: [] }), { mode: 0o644 })
  } finally {
    store.close()
  }
  await writeFileAtomic(paths.deviceCert, issued.certPem, { mode: 0o644 })
}

/** The console's certificate as it stands (for the unlock page of a locked server, before anything is opened). */
export async function storedWebCertificate (config: ServerConfig): Promise<{ cert: string, key: string }> {
  const paths = serverPaths(config.dataDir)
  const cert = config.tlsCert ?? paths.webCert
  const key = config.tlsKey ?? paths.webKey
  try {
    return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') }
  } catch (err) {
    throw new NotConfiguredError(`cannot read the console's certificate (${cert}): ${(err as Error).message}`)
  }
}

async function webCertificate (config: ServerConfig, paths: ReturnType<typeof serverPaths>, caCertPem: string, caKey: CaKey): Promise<{ certPem: string, keyPem: string }> {
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    try {
      return { certPem: await readFile(config.tlsCert, 'utf8'), keyPem: await readFile(config.tlsKey, 'utf8') }
    } catch (err) {
      throw new NotConfiguredError(`cannot read the given TLS certificate or key: ${(err as Error).message}`)
    }
  }
  const names = ['localhost', '127.0.0.1', hostname(), ...config.names, ...(['0.0.0.0', '::'].includes(config.host) ? [] : [config.host])]
  if (await exists(paths.webCert)) {
    const certPem = await readFile(paths.webCert, 'utf8')
    const cert = new X509Certificate(certPem)
    const covered = names.every(name => cert.checkHost(name) !== undefined || cert.checkIP(name) !== undefined)
    if (covered && cert.validToDate.getTime() - Date.now() > RENEW_WEB_BEFORE_MS) return { certPem, keyPem: await readFile(paths.webKey, 'utf8') }
  }
  const issued = issueWebCertificate({ caCertPem, caKey, names })
  await writeFileAtomic(paths.webKey, issued.keyPem, { mode: 0o600 })
  await writeFileAtomic(paths.webCert, issued.certPem, { mode: 0o644 })
  return issued
}

function hostnameForEmail (): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-')
  return host.includes('.') ? host : `${host}.local`
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}
