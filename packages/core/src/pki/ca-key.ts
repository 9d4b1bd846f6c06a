import { createPublicKey, type KeyObject } from 'node:crypto'
import { CaLockedError } from '../errors.ts'
import { bytesEqual } from './bytes.ts'
import type { OrgRoot } from './org-root.ts'

/**
 * An unlocked CA private key. Opaque: the key material lives in a WeakMap, so the handle can be
 * logged or serialised without leaking anything.
 */
export interface CaKey {
  readonly description: 'unlocked Aerie CA key'
}

const keys = new WeakMap<CaKey, KeyObject>()

export function wrapCaKey (key: KeyObject): CaKey {
  const caKey: CaKey = Object.freeze({ description: 'unlocked Aerie CA key' as const })
  keys.set(caKey, key)
  return caKey
}

/** The private key to sign with, after checking it belongs to `root`. */
export function caSigningKey (caKey: CaKey, root: OrgRoot): KeyObject {
  const key = keys.get(caKey)
  if (key === undefined) throw new CaLockedError('the CA key is locked; unlock it with the CA passphrase first')
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }))
  if (!bytesEqual(spki, root.spkiDer)) {
    throw new CaLockedError('this CA key does not belong to the organisation CA certificate; unlock the key that was created together with it')
  }
  return key
}
