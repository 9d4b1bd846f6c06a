import { hostname } from 'node:os'
import {
  caFingerprint, createCrl, createOrgCA, createCsr, dialableAddresses, encodeEnrollmentCode, generateDeviceKey, hashEnrollmentSecret,
  issueDeviceCertificate, newEnrollmentSecret, NotConfiguredError, openCaStore, unlockCAKey
} from '@aerie/core'
import QRCode from 'qrcode'
import { tryCallAgent } from '../control-client.ts'
import { DEFAULT_LISTEN } from '../device-home.ts'
import { caPassphrase } from '../passphrase.ts'
import { parse, parseDuration, UsageError } from './args.ts'
import type { AgentStatus } from '../agent.ts'
import type { CommandContext } from './main.ts'
import type { DeviceHome } from '../device-home.ts'

/** `aerie ca init`: this device becomes the organisation's CA holder (and its first device). */
export async function caInit ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, {
    org: { type: 'string' },
    user: { type: 'string' },
    name: { type: 'string' },
    listen: { type: 'string', multiple: true },
    'passphrase-file': { type: 'string' }
  }, { min: 0, max: 0, names: '' })
  if (values.org == null || values.user == null) throw new UsageError('ca init needs --org NAME and --user EMAIL')
  if (await home.exists('ca/ca-key.pem') || await home.isEnrolled()) {
    throw new NotConfiguredError(`${home.dir} already holds a device; use another --home for a new organisation`)
  }
  const passphrase = (await caPassphrase({ file: values['passphrase-file'] as string | undefined, confirm: true, required: true }))!
  await home.ensure()
  const ca = await createOrgCA({ orgName: values.org as string, passphrase })
  await home.write('ca/ca-key.pem', ca.encryptedKeyPem, true)
  await home.write('ca.crt', ca.certPem)

  // The CA holder is a device like the others: it certifies itself.
  const caKey = unlockCAKey(ca.encryptedKeyPem, passphrase)
  const deviceName = (values.name as string | undefined) ?? hostname()
  const key = await deviceKey(home)
  const issued = issueDeviceCertificate({ caCertPem: ca.certPem, caKey, csrPem: createCsr({ privateKeyPem: key, deviceName }), user: values.user as string, deviceName })
  const store = openCaStore(home.path('ca/ca.db'))
  try {
    store.recordIssued({ serial: issued.serial, deviceId: issued.deviceId, peerId: issued.peerId, user: values.user as string, deviceName, certPem: issued.certPem, issuedAt: new Date() })
    await home.write('crl.der', createCrl({ caCertPem: ca.certPem, caKey, number: store.nextCrlNumber(), revoked: [] }))
  } finally {
    store.close()
  }
  await home.write('device.crt', issued.certPem)
  await home.writeConfig({ deviceName, listen: (values.listen as string[] | undefined) ?? [DEFAULT_LISTEN], peers: [], mdns: true, folders: [] })
  out(`created the CA of ${values.org as string} (fingerprint ${ca.fingerprint.slice(0, 32)}…)`)
  out(`this device is ${deviceName} (${issued.deviceId}) for ${values.user as string}`)
  out('next: `aerie run` here, then `aerie invite --user EMAIL` for each new device')
}

/** `aerie invite`: a one-time code that lets one new device enroll. */
export async function invite ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, {
    user: { type: 'string' },
    name: { type: 'string' },
    expires: { type: 'string', default: '24h' },
    address: { type: 'string', multiple: true }
  }, { min: 0, max: 0, names: '' })
  if (values.user == null) throw new UsageError('invite needs --user EMAIL (the person the new device belongs to)')
  await requireCaHolder(home)
  const ttl = parseDuration(values.expires as string)
  if (ttl > 30 * 86_400_000) throw new UsageError('an enrollment code may live at most 30d')

  let addresses = values.address as string[] | undefined
  if (addresses == null) {
    const running = await tryCallAgent<AgentStatus>(home, 'GET', '/v1/status')
    addresses = dialableAddresses(running?.addresses ?? (await home.readConfig()).listen)
  }
  if (addresses.length === 0) throw new NotConfiguredError('cannot tell at which address new devices reach this CA: start `aerie run` first, or pass --address /ip4/HOST/tcp/PORT')

  const secret = newEnrollmentSecret()
  const store = openCaStore(home.path('ca/ca.db'))
  try {
    store.addEnrollmentCode({ secretHash: hashEnrollmentSecret(secret), user: values.user as string, deviceName: values.name as string | undefined, expiresAt: new Date(Date.now() + ttl) })
  } finally {
    store.close()
  }
  const code = encodeEnrollmentCode({ secret, caFingerprint: caFingerprint(await home.read('ca.crt')), addresses })
  if (process.stdout.isTTY) {
    out(await QRCode.toString(code, { type: 'terminal', small: true }))
    out(`enrollment code for ${values.user as string}, valid for ${values.expires as string}, usable once; on the new device run: aerie enroll CODE`)
  }
  out(code)
}

/** `aerie devices`: every device the CA has certified, and which are revoked. */
export async function devices ({ home, args, out }: CommandContext): Promise<void> {
  const { values } = parse(args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' })
  await requireCaHolder(home)
  const store = openCaStore(home.path('ca/ca.db'))
  try {
    const list = store.listDevices()
    if (values.json === true) {
      out(JSON.stringify(list.map(d => ({ deviceId: d.deviceId, deviceName: d.deviceName, user: d.user, peerId: d.peerId, serial: d.serial, issuedAt: d.issuedAt, revokedAt: d.revokedAt ?? null })), null, 2))
      return
    }
    for (const d of list) {
      out(`${d.deviceId}  ${d.deviceName.padEnd(20)} ${d.user.padEnd(28)} ${d.revokedAt != null ? `REVOKED ${new Date(d.revokedAt).toISOString()}` : 'active'}`)
    }
  } finally {
    store.close()
  }
}

/** `aerie revoke DEVICE`: a new CRL; the running agent drops the device and passes the CRL on. */
export async function revoke ({ home, args, out }: CommandContext): Promise<void> {
  const { values, positionals } = parse(args, { 'passphrase-file': { type: 'string' } }, { min: 1, max: 1, names: 'DEVICE (an id, a unique id prefix, or a device name)' })
  await requireCaHolder(home)
  const passphrase = (await caPassphrase({ file: values['passphrase-file'] as string | undefined, required: true }))!
  const caCertPem = await home.read('ca.crt')
  const caKey = unlockCAKey(await home.read('ca/ca-key.pem'), passphrase)
  const store = openCaStore(home.path('ca/ca.db'))
  let number: bigint
  let device
  try {
    device = store.findDevice(positionals[0]!)
    if (device.revokedAt == null) store.revoke(device.serial, new Date())
    number = store.nextCrlNumber()
    await home.write('crl.der', createCrl({ caCertPem, caKey, number, revoked: store.revokedList() }))
  } finally {
    store.close()
  }
  out(`revoked ${device.deviceName} (${device.deviceId}); CRL number ${number}`)
  const reloaded = await tryCallAgent<{ adopted: boolean }>(home, 'POST', '/v1/crl/reload')
  out(reloaded == null
    ? 'the agent is not running: the CRL goes out when you start it (`aerie run`)'
    : 'the running agent has dropped the device and is passing the CRL to every peer')
}

async function requireCaHolder (home: DeviceHome): Promise<void> {
  if (!await home.isCaHolder()) throw new NotConfiguredError(`${home.dir} does not hold the organisation's CA; run this on the CA holder (the device that ran \`aerie ca init\`)`)
}

/** The device key, made once and kept (0600), so a failed enrollment can be retried with it. */
export async function deviceKey (home: DeviceHome): Promise<string> {
  if (await home.exists('device-key.pem')) return await home.read('device-key.pem')
  const { privateKeyPem } = generateDeviceKey()
  await home.write('device-key.pem', privateKeyPem, true)
  return privateKeyPem
}
