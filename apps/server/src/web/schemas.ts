import type { UserRecord } from '../metadata/stores.ts'

// JSON schemas shared by several routes. Every object is closed (additionalProperties: false):
// a request with an unknown field is refused, and a response never leaks a field by accident.

export const emailSchema = { type: 'string', minLength: 3, maxLength: 254 } as const
export const passwordSchema = { type: 'string', minLength: 1, maxLength: 1024 } as const
export const codeSchema = { type: 'string', minLength: 6, maxLength: 32 } as const
export const idParamSchema = { type: 'string', minLength: 1, maxLength: 128 } as const
export const roleSchema = { type: 'string', enum: ['admin', 'user'] } as const

export function closed (properties: Record<string, object>, required: string[] = Object.keys(properties)): object {
  return { type: 'object', additionalProperties: false, required, properties }
}

/** Path parameters of a route for one thing named by its id (`/…/:id`). */
export const idParams = closed({ id: idParamSchema })

/** For a POST that takes no fields: `{}`, so nothing unexpected gets through either. */
export const emptyBody = closed({})
export const okSchema = closed({ ok: { type: 'boolean' } })

export const userSchema = closed({
  id: { type: 'string' },
  email: { type: 'string' },
  role: roleSchema,
  totpEnabled: { type: 'boolean' },
  disabled: { type: 'boolean' },
  createdAt: { type: 'string' },
  recoveryCodesLeft: { type: 'integer' }
})

export interface UserView {
  id: string
  email: string
  role: UserRecord['role']
  totpEnabled: boolean
  disabled: boolean
  createdAt: string
  recoveryCodesLeft: number
}

export function userView (user: UserRecord, recoveryCodesLeft: number): UserView {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    totpEnabled: user.totpSecret !== undefined,
    disabled: user.disabledAt !== undefined,
    createdAt: user.createdAt.toISOString(),
    recoveryCodesLeft
  }
}

export const signedInSchema = closed({
  status: { type: 'string', enum: ['signed-in'] },
  user: userSchema,
  csrfToken: { type: 'string' }
})

export const deviceSchema = closed({
  deviceId: { type: 'string' },
  deviceName: { type: 'string' },
  user: { type: 'string' },
  issuedAt: { type: 'string' },
  revokedAt: { type: 'string' },
  online: { type: 'boolean' },
  lastSeen: { type: 'string' },
  address: { type: 'string' }
}, ['deviceId', 'deviceName', 'user', 'issuedAt', 'online'])

export const folderSchema = closed({
  id: { type: 'string' },
  label: { type: 'string' },
  owner: { type: 'string' },
  members: {
    type: 'array',
    items: closed({ deviceId: { type: 'string' }, role: { type: 'string', enum: ['owner', 'editor', 'viewer'] } })
  },
  users: {
    type: 'array',
    description: 'users every device of whom is a member',
    items: closed({ user: { type: 'string' }, role: { type: 'string', enum: ['editor', 'viewer'] } })
  },
  files: { type: 'integer' },
  bytes: { type: 'integer' },
  online: { type: 'array', items: { type: 'string' } }
})

export const orgSchema = closed({
  name: { type: 'string' },
  caFingerprint: { type: 'string' },
  deviceId: { type: 'string' },
  addresses: { type: 'array', items: { type: 'string' } }
})

export const apiTokenSchema = closed({
  id: { type: 'string' },
  name: { type: 'string' },
  createdAt: { type: 'string' },
  lastUsedAt: { type: 'string' },
  revokedAt: { type: 'string' }
}, ['id', 'name', 'createdAt'])

export const auditEntrySchema = closed({
  seq: { type: 'integer' },
  time: { type: 'string' },
  actor: { type: 'string' },
  action: { type: 'string' },
  target: { type: 'string' },
  detail: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  address: { type: 'string' },
  hash: { type: 'string' }
})
