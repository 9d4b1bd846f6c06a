import { createAerieHost, libp2pKeyFromPem, TrustStore } from '../../../src/index.ts'
import type { AerieHost } from '../../../src/index.ts'
import type { Device, Org } from '../../pki/fixtures.ts'

/** A host for an enrolled device of `org`, listening on 127.0.0.1 (a random port), without mDNS. */
export async function loopbackHost (org: Org, device: Device): Promise<AerieHost> {
  return await createAerieHost({
    privateKey: libp2pKeyFromPem(device.privateKeyPem),
    trust: new TrustStore({ credentials: { certificate: device.certPem, ca: org.certPem } }),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false
  })
}
