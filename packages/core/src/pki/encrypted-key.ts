import { createCipheriv, pbkdf2, randomBytes, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { nullValue, octetString, oid, sequence, toDer, unsignedInteger } from './asn1.ts'
import { toPem } from './pem.ts'

/**
 * Writes a private key as a standard encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC),
 * which OpenSSL and node's createPrivateKey read back. By hand because node's own export uses
 * OpenSSL's default of 2048 PBKDF2 rounds, and forge's pure-JS PBKDF2 takes seconds at a safe count.
 */
const PBKDF2_ROUNDS = 600_000 // OWASP's guidance for PBKDF2-HMAC-SHA256

const PBES2 = '1.2.840.113549.1.5.13'
const PBKDF2 = '1.2.840.113549.1.5.12'
const HMAC_WITH_SHA256 = '1.2.840.113549.2.9'
const AES256_CBC = '2.16.840.1.101.3.4.1.42'

export async function encryptPrivateKey (key: KeyObject, passphrase: string): Promise<string> {
  const salt = randomBytes(16)
  const iv = randomBytes(16)
  const derived = await promisify(pbkdf2)(passphrase, salt, PBKDF2_ROUNDS, 32, 'sha256')
  const cipher = createCipheriv('aes-256-cbc', derived, iv)
  const plain = key.export({ type: 'pkcs8', format: 'der' })
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()])
  const info = sequence([
    sequence([
      oid(PBES2),
      sequence([
        sequence([
          oid(PBKDF2),
          sequence([octetString(salt), unsignedInteger(BigInt(PBKDF2_ROUNDS)), sequence([oid(HMAC_WITH_SHA256), nullValue()])])
        ]),
        sequence([oid(AES256_CBC), octetString(iv)])
      ])
    ]),
    octetString(encrypted)
  ])
  return toPem('ENCRYPTED PRIVATE KEY', toDer(info))
}
