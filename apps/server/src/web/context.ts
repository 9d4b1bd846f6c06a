import type { ApiTokens } from '../accounts/api-tokens.ts'
import type { LoginThrottle } from '../accounts/login-throttle.ts'
import type { Sessions } from '../accounts/sessions.ts'
import type { AuditLog } from '../audit/audit-log.ts'
import type { AccountStore, ApiTokenRecord, SessionRecord, UserRecord } from '../metadata/stores.ts'
import type { TeamServerApi } from '../team-server-api.ts'

/** Who is calling: a signed-in browser session or an API token, always with its (enabled) user. */
export interface Principal {
  user: UserRecord
  via: 'session' | 'token'
  session?: SessionRecord
  token?: ApiTokenRecord
}

/** Who may call a route. Every route under /api/v1 must say; app.ts refuses to start otherwise. */
export type RouteAccess = 'public' | 'user' | 'admin'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess
  }
  interface FastifyRequest {
    principal?: Principal
  }
}

/** What the route plugins share (built once in app.ts from WebAppOptions). */
export interface WebContext {
  api: TeamServerApi
  accounts: AccountStore
  sessions: Sessions
  apiTokens: ApiTokens
  throttle: LoginThrottle
  audit: AuditLog
  setupToken?: string
  secureCookies: boolean
  sessionCookie: string
  now: () => Date
  log: (line: string) => void
  /** A hash to verify against when the email is unknown, so a wrong email takes as long as a wrong password. */
  decoyPasswordHash: string
}
