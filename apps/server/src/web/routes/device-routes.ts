import { InvalidInputError, isValidEmail, isValidName, NAME_RULE } from '@aerie/core'
import type { FastifyPluginAsync } from 'fastify'
import QRCode from 'qrcode'
import { ConflictError, ForbiddenError, NotFoundError } from '../../accounts/errors.ts'
import type { DeviceSummary } from '../../team-server-api.ts'
import { actorOf, principalOf, viaOf } from '../auth.ts'
import type { Principal, WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, deviceSchema, emailSchema, emptyBody, idParamSchema } from '../schemas.ts'

const DEFAULT_TTL_MINUTES = 60 * 24

/**
 * Devices: the list (an administrator sees all, a user their own), enrollment codes (a user for
 * themselves, an administrator for anyone; text and QR code), and revocation.
 */
export function deviceRoutes (ctx: WebContext): FastifyPluginAsync {
  const { api, audit } = ctx
  const visible = (principal: Principal): DeviceSummary[] =>
    api.devices().filter(d => principal.user.role === 'admin' || d.user.toLowerCase() === principal.user.email.toLowerCase())

  return async app => {
    app.get('/devices', {
      config: { access: 'user' },
      schema: { summary: 'Enrolled devices, online or last seen', tags: ['devices'], response: responses(closed({ devices: { type: 'array', items: deviceSchema } })) }
    }, async request => ({ devices: visible(principalOf(request)) }))

    app.post<{ Body: { user?: string, deviceName?: string, ttlMinutes?: number } }>('/enrollment-codes', {
      config: { access: 'user' },
      schema: {
        summary: 'A one-time enrollment code for a new device (`aerie enroll CODE`), as text and as a QR code',
        tags: ['devices'],
        body: closed({
          user: emailSchema,
          deviceName: { type: 'string', minLength: 1, maxLength: 64 },
          ttlMinutes: { type: 'integer', minimum: 5, maximum: 60 * 24 * 7 }
        }, []),
        response: responses(closed({
          code: { type: 'string' }, user: { type: 'string' }, deviceName: { type: 'string' }, expiresAt: { type: 'string' }, qrSvg: { type: 'string' }
        }, ['code', 'user', 'expiresAt', 'qrSvg']))
      }
    }, async request => {
      const principal = principalOf(request)
      const user = request.body.user ?? principal.user.email
      const { deviceName } = request.body
      if (user.toLowerCase() !== principal.user.email.toLowerCase() && principal.user.role !== 'admin') {
        throw new ForbiddenError('you can make enrollment codes for your own devices only; ask an administrator for someone else\'s')
      }
      if (!isValidEmail(user)) throw new InvalidInputError(`"${user}" does not look like an email address, e.g. ada@example.org`)
      if (deviceName !== undefined && !isValidName(deviceName)) throw new InvalidInputError(`the device name ${NAME_RULE}`)
      const issued = api.createEnrollmentCode({
        user, ...(deviceName === undefined ? {} : { deviceName }), ttlMs: (request.body.ttlMinutes ?? DEFAULT_TTL_MINUTES) * 60_000
      })
      audit.record({
        actor: actorOf(request),
        action: 'enrollment_code.created',
        target: issued.user,
        detail: { deviceName: issued.deviceName ?? null, expiresAt: issued.expiresAt, ...viaOf(request) },
        address: request.ip
      }, ctx.now())
      const qrSvg = await QRCode.toString(issued.code, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
      return { ...issued, qrSvg }
    })

    app.post<{ Params: { device: string } }>('/devices/:device/revoke', {
      config: { access: 'user' },
      schema: {
        summary: 'Revoke a device (by id, or by name for an administrator): a new CRL reaches every agent at once',
        tags: ['devices'],
        params: closed({ device: idParamSchema }),
        body: emptyBody,
        response: responses(closed({ device: deviceSchema }))
      }
    }, async request => {
      const principal = principalOf(request)
      const wanted = request.params.device
      const mine = visible(principal)
      const found = mine.find(d => d.deviceId === wanted) ??
        (principal.user.role === 'admin' ? unique(mine.filter(d => d.deviceName === wanted && d.revokedAt === undefined)) : undefined)
      if (found === undefined) throw new NotFoundError(`no device you can revoke has the id ${principal.user.role === 'admin' ? 'or name ' : ''}"${wanted}"`)
      if (found.deviceId === api.org().deviceId) throw new ConflictError('this is the team server itself: revoking it would cut every agent off from the central copy')
      const device = await api.revokeDevice(found.deviceId)
      audit.record({
        actor: actorOf(request),
        action: 'device.revoked',
        target: device.deviceId,
        detail: { deviceName: device.deviceName, user: device.user, ...viaOf(request) },
        address: request.ip
      }, ctx.now())
      return { device }
    })
  }
}

function unique<T> (items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined
}
