import { randomUUID } from 'node:crypto'
import type { ApiTokenRecord, ApiTokenStore } from '../metadata/stores.ts'
import { hashSecret, newSecret } from './secrets.ts'

/**
 * API tokens for automation: `Authorization: Bearer aerie_…`. A token acts as its user with the
 * user's role at the time of use (a disabled user's tokens stop working), is shown once and
 * stored hashed, has a name, can be revoked, and remembers when it was last used.
 */

const PREFIX = 'aerie_'
const TOUCH_EVERY_MS = 60_000

export interface ApiTokens {
  issue (userId: string, name: string, now: Date): { token: string, record: ApiTokenRecord }
  /** The live token record, or undefined for an unknown, malformed or revoked token. */
  authenticate (token: string, now: Date): ApiTokenRecord | undefined
  list (userId?: string): ApiTokenRecord[]
  get (id: string): ApiTokenRecord | undefined
  revoke (id: string, now: Date): boolean
}

export function looksLikeApiToken (value: string): boolean {
  return value.startsWith(PREFIX) && /^[A-Za-z0-9_-]{43}$/.test(value.slice(PREFIX.length))
}

export function createApiTokens (store: ApiTokenStore): ApiTokens {
  return {
    issue (userId, name, now) {
      const token = PREFIX + newSecret()
      const record = store.createToken({ id: randomUUID(), userId, name, tokenHash: hashSecret(token), createdAt: now })
      return { token, record }
    },
    authenticate (token, now) {
      if (!looksLikeApiToken(token)) return undefined
      const record = store.tokenByHash(hashSecret(token))
      if (record === undefined || record.revokedAt !== undefined) return undefined
      if (record.lastUsedAt === undefined || now.getTime() - record.lastUsedAt.getTime() >= TOUCH_EVERY_MS) store.touchToken(record.id, now)
      return record
    },
    list: userId => store.listTokens(userId),
    get: id => store.tokenById(id),
    revoke: (id, now) => store.revokeToken(id, now)
  }
}
