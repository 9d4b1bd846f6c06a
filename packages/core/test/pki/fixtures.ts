import { spawnSync } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import {
  createCsr, createOrgCA, generateDeviceKey, issueDeviceCertificate, libp2pKeyFromPem, unlockCAKey
} from '../../src/pki/index.ts'
import type { CaKey, IssuedCertificate, OrgCA } from '../../src/pki/index.ts'

// Shared set-up for the PKI tests: real keys, made once per test file in beforeAll.

export const PASSPHRASE = 'correct horse battery staple'

export interface Org extends OrgCA {
  caKey: CaKey
}

export async function createOrg (orgName = 'Example Org'): Promise<Org> {
  const ca = await createOrgCA({ orgName, passphrase: PASSPHRASE })
  return { ...ca, caKey: unlockCAKey(ca.encryptedKeyPem, PASSPHRASE) }
}

export interface Device extends IssuedCertificate {
  privateKeyPem: string
  csrPem: string
  spki: Uint8Array
}

export function enrollDevice (org: Org, options: { deviceName?: string, user?: string, now?: Date, validDays?: number, privateKeyPem?: string, role?: 'server' } = {}): Device {
  const privateKeyPem = options.privateKeyPem ?? generateDeviceKey().privateKeyPem
  const csrPem = createCsr({ privateKeyPem, deviceName: options.deviceName ?? 'laptop' })
  const issued = issueDeviceCertificate({
    caCertPem: org.certPem,
    caKey: org.caKey,
    csrPem,
    user: options.user ?? 'ada@example.org',
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.validDays === undefined ? {} : { validDays: options.validDays }),
    ...(options.role === undefined ? {} : { role: options.role })
  })
  return { ...issued, privateKeyPem, csrPem, spki: libp2pKeyFromPem(privateKeyPem).publicKey.raw }
}

/** The CA key as forge sees it, to sign documents our API would refuse to make. */
export function forgeCaKey (org: Org): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey({ key: org.encryptedKeyPem, format: 'pem', passphrase: PASSPHRASE })
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey
}

export function pemToDer (pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64'))
}

export function derToPem (label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64')}\n-----END ${label}-----\n`
}

export function withTempDir<T> (fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-pki-'))
  try {
    return fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs /usr/bin/openssl; returns its exit status and everything it printed. */
export function openssl (dir: string, files: Record<string, string | Uint8Array>, args: string[]): { status: number | null, output: string } {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  const result = spawnSync('/usr/bin/openssl', args, { cwd: dir, encoding: 'utf8' })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}
