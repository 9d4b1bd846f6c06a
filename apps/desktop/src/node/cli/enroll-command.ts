import { hostname } from 'node:os'
import { createAerieHost, createCsr, decodeEnrollmentCode, EnrollmentError, libp2pKeyFromPem, NotConfiguredError, TrustStore } from '@aerie/core'
import { DEFAULT_LISTEN } from '../device-home.ts'
import { KnownPeers } from '../known-peers.ts'
import { deviceKey } from './ca-commands.ts'
import { parse } from './args.ts'
import type { DeviceIdentity } from '@aerie/core'
import type { DeviceHome } from '../device-home.ts'
import type { CommandContext } from './main.ts'

/**
 * `aerie enroll CODE`: make a key, send a CSR with the code to the CA holder named in
 * the code, and keep the certificate. The key never leaves this device; the CA proves
 * itself (its fingerprint is in the code) before the code's secret is sent.
 */
export async function enroll ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, {
    name: { type: 'string' },
    ca: { type: 'string', multiple: true },
    listen: { type: 'string', multiple: true }
  }, { min: 1, max: 1, names: 'CODE (from `aerie invite` on the CA holder)' })
  const { identity, caHolder, reachedAt } = await enrollDevice(home, {
    code: positionals[0]!,
    name: values.name as string | undefined,
    ca: values.ca as string[] | undefined,
    listen: values.listen as string[] | undefined
  })
  out(`enrolled ${identity.deviceName} (${identity.deviceId}) for ${identity.user}`)
  out(`the CA holder ${caHolder.deviceName} (${caHolder.deviceId}) is known at ${reachedAt}; start the agent with \`aerie run\``)
}

export interface EnrollRequest { code: string, name?: string, ca?: string[], listen?: string[] }

/** Enrolls this device with a code: the CLI's `aerie enroll`, and the desktop app's first run. */
export async function enrollDevice (home: DeviceHome, request: EnrollRequest): Promise<{ identity: DeviceIdentity, caHolder: DeviceIdentity, reachedAt: string }> {
  const code = decodeEnrollmentCode(request.code.trim())
  if (await home.isEnrolled()) throw new NotConfiguredError(`${home.dir} is already enrolled; use another --home for a second device`)
  await home.ensure()

  const deviceName = request.name?.trim() || hostname()
  const privateKeyPem = await deviceKey(home)
  let result: { certificate: string, ca: string, crl?: Uint8Array, caHolder: DeviceIdentity } | undefined
  const trust = new TrustStore()
  const host = await createAerieHost({
    privateKey: libp2pKeyFromPem(privateKeyPem),
    trust,
    listen: [],
    enrollment: {
      secret: code.secret,
      caFingerprintPrefix: code.caFingerprintPrefix,
      csr: createCsr({ privateKeyPem, deviceName }),
      onEnrolled: (enrolled) => {
        result = enrolled
        trust.setCredentials({ certificate: enrolled.certificate, ca: enrolled.ca }, enrolled.crl)
      }
    }
  })

  const addresses = request.ca ?? code.addresses
  const failures: string[] = []
  let reachedAt: string | undefined
  try {
    for (const address of addresses) {
      try {
        await host.dial(address, { signal: AbortSignal.timeout(20_000) })
        reachedAt = address
        break
      } catch (err) {
        failures.push(`${address}: ${cleanDialError(err as Error)}`)
        // The CA answered and refused: trying its other addresses cannot help.
        if (result == null && /refused the connection/.test((err as Error).message)) break
      }
    }
  } finally {
    await host.stop()
  }
  if (result == null || reachedAt == null) {
    throw new EnrollmentError(`enrollment failed: ${failures.join('; ') || 'no address to try'}${failures.some(f => /ECONNREFUSED|timed out|abort/i.test(f)) ? ' (is `aerie run` up on the CA holder? pass --ca ADDR to try another address)' : ''}`)
  }

  await home.write('device.crt', result.certificate)
  await home.write('ca.crt', result.ca)
  if (result.crl != null) await home.write('crl.der', result.crl)
  await home.writeConfig({ deviceName, listen: request.listen ?? [DEFAULT_LISTEN], peers: [{ deviceId: result.caHolder.deviceId, address: reachedAt }], mdns: true, folders: [] })
  const known = await KnownPeers.load(home)
  await known.seen(result.caHolder, reachedAt, true)
  const identity = trust.verifyPeer(result.certificate, libp2pKeyFromPem(privateKeyPem).publicKey.raw)
  return { identity, caHolder: result.caHolder, reachedAt }
}

/** libp2p wraps the peer's reason in layers of its own; keep what a person can act on. */
function cleanDialError (err: Error): string {
  const errors = (err as Error & { errors?: Error[] }).errors
  const message = errors?.[0]?.message ?? err.message
  return message.replace(/^.*peer refused the connection: /, 'refused: ')
}
