import { caFingerprint, encodeEnrollmentCode, hashEnrollmentSecret, newEnrollmentSecret, openCaStore } from '@aerie/core'
import { readFileSync } from 'node:fs'
import { serverPaths } from './server-identity.ts'
import type { CaStore, DeviceRecord } from '@aerie/core'
import type { EnrollmentCodeIssued } from './team-server-api.ts'

/**
 * One-time enrollment codes, made by the console or by `aerie-server invite`: the CA store
 * keeps only the secret's hash; the code carries the secret, the CA's fingerprint and the
 * addresses where a new device reaches the server.
 */
export function createEnrollmentCode (store: CaStore, caCertPem: string, request: { user: string, deviceName?: string, ttlMs: number, addresses: string[] }): EnrollmentCodeIssued {
  const secret = newEnrollmentSecret()
  const expiresAt = new Date(Date.now() + request.ttlMs)
  const deviceName = request.deviceName === undefined ? {} : { deviceName: request.deviceName }
  store.addEnrollmentCode({ secretHash: hashEnrollmentSecret(secret), user: request.user, ...deviceName, expiresAt })
  const code = encodeEnrollmentCode({ secret, caFingerprint: caFingerprint(caCertPem), addresses: request.addresses })
  return { code, user: request.user, ...deviceName, expiresAt: expiresAt.toISOString() }
}

/** For the CLI, beside a running server (the CA store is shared safely: WAL). */
export async function issueEnrollmentCode (dataDir: string, request: { user: string, deviceName?: string, ttlMs: number, addresses: string[] }): Promise<EnrollmentCodeIssued> {
  const paths = serverPaths(dataDir)
  const store = openCaStore(paths.caDb)
  try {
    return createEnrollmentCode(store, readFileSync(paths.caCert, 'utf8'), request)
  } finally {
    store.close()
  }
}

export function listDevices (dataDir: string): DeviceRecord[] {
  const store = openCaStore(serverPaths(dataDir).caDb)
  try {
    return store.listDevices()
  } finally {
    store.close()
  }
}
