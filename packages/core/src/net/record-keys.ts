import { hkdfSync, randomBytes } from 'node:crypto'
import type { RecordKeys } from './record-stream.ts'

/**
 * Keys for the record phase. Each side contributes 32 random bytes, sent inside the
 * Noise channel after Noise has authenticated both peer keys; so only the two
 * authenticated peers know them, and they inherit Noise's forward secrecy (the shares
 * travelled under keys from ephemeral X25519). Both peer ids go into the salt, so the
 * keys belong to this pair of identities and nothing else.
 */
export const KEY_SHARE_BYTES = 32

export function newKeyShare (): Uint8Array {
  return randomBytes(KEY_SHARE_BYTES)
}

/** What both sides know once the certificate exchange is done, and no one else does. */
export interface SessionSecrets {
  initiatorShare: Uint8Array
  responderShare: Uint8Array
  initiatorPeer: string
  responderPeer: string
}

/** 32 bytes for one purpose (`label`), from both shares, salted with both peer ids. */
function expand (secrets: SessionSecrets, label: string): Buffer {
  const ikm = Buffer.concat([secrets.initiatorShare, secrets.responderShare])
  const salt = Buffer.from(`aerie/records/v1 ${secrets.initiatorPeer} ${secrets.responderPeer}`)
  return Buffer.from(hkdfSync('sha256', ikm, salt, label, 32))
}

/** One key per direction for Aerie's own records (record-stream.ts). */
export function deriveRecordKeys (init: SessionSecrets & { weAreInitiator: boolean }): RecordKeys {
  const i2r = new Uint8Array(expand(init, 'initiator to responder'))
  const r2i = new Uint8Array(expand(init, 'responder to initiator'))
  return init.weAreInitiator ? { send: i2r, receive: r2i } : { send: r2i, receive: i2r }
}

/**
 * The external PSK for the TLS 1.3 record phase (tls-stream.ts): the same secrets and
 * salt as the record keys, another label. One PSK for both directions; TLS derives its
 * own traffic keys from it and a fresh (EC)DHE exchange.
 */
export function deriveTlsPsk (secrets: SessionSecrets): Buffer {
  return expand(secrets, 'tls 1.3 external psk')
}
