import { createCrl, createCsr, createOrgCA, generateDeviceKey, issueDeviceCertificate, unlockCAKey } from '@aerie/core'

/** What one device needs to take part: its key, its certificate, the org CA and the CRL. */
export interface DeviceCredentials {
  privateKeyPem: string
  certPem: string
  caCertPem: string
  crlDer: Uint8Array
}

/** A throwaway organisation with two enrolled devices, made once per run (RSA keygen takes a while). */
export async function benchOrganisation (): Promise<{ sender: DeviceCredentials, receiver: DeviceCredentials }> {
  const passphrase = 'bench passphrase, not a secret'
  const ca = await createOrgCA({ orgName: 'Aerie Bench', passphrase })
  const caKey = unlockCAKey(ca.encryptedKeyPem, passphrase)
  const crlDer = createCrl({ caCertPem: ca.certPem, caKey, number: 1, revoked: [] })
  const device = (deviceName: string): DeviceCredentials => {
    const { privateKeyPem } = generateDeviceKey()
    const csrPem = createCsr({ privateKeyPem, deviceName })
    const { certPem } = issueDeviceCertificate({ caCertPem: ca.certPem, caKey, csrPem, user: 'bench@example.com', deviceName })
    return { privateKeyPem, certPem, caCertPem: ca.certPem, crlDer }
  }
  return { sender: device('bench-sender'), receiver: device('bench-receiver') }
}
