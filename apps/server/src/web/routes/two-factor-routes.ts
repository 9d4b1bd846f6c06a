import { InvalidInputError } from '@aerie/core'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import QRCode from 'qrcode'
import { AuthenticationError, ConflictError } from '../../accounts/errors.ts'
import { verifyPassword } from '../../accounts/password.ts'
import { hashRecoveryCode, isRecoveryCodeShape, newRecoveryCodes } from '../../accounts/recovery-codes.ts'
import { matchTotp, newTotpSecret, totpUri } from '../../accounts/totp.ts'
import type { UserRecord } from '../../metadata/stores.ts'
import { sessionPrincipalOf } from '../auth.ts'
import type { WebContext } from '../context.ts'
import { responses } from '../errors.ts'
import { closed, codeSchema, emptyBody, okSchema, passwordSchema } from '../schemas.ts'

const recoveryCodesSchema = closed({ recoveryCodes: { type: 'array', items: { type: 'string' } } })

/** Two-step sign-in: enrol a TOTP app (secret + QR), confirm it with a code, turn it off, new recovery codes. */
export function twoFactorRoutes (ctx: WebContext): FastifyPluginAsync {
  const { accounts, audit, throttle } = ctx

  const newCodes = (user: UserRecord): string[] => {
    const codes = newRecoveryCodes()
    accounts.replaceRecoveryCodes(user.id, codes.map(hashRecoveryCode))
    return codes
  }

  // Turning 2FA off or making new recovery codes asks for the password again: a session left open is not enough.
  const reauthenticate = async (request: FastifyRequest, user: UserRecord, password: string, code?: string): Promise<void> => {
    const now = ctx.now()
    const attempt = { account: user.email.toLowerCase(), address: request.ip }
    throttle.check(attempt, now)
    let right = await verifyPassword(password, user.passwordHash)
    if (right && code !== undefined && user.totpSecret !== undefined) {
      if (isRecoveryCodeShape(code)) right = accounts.useRecoveryCode(user.id, hashRecoveryCode(code), now)
      else {
        const step = matchTotp(user.totpSecret, code, now)
        right = step !== undefined && accounts.useTotpStep(user.id, step)
      }
    }
    if (!right) {
      audit.record({ actor: user.email, action: 'reauthentication.failed', target: user.email, address: request.ip }, now)
      for (const key of throttle.failure(attempt, now)) audit.record({ actor: 'system', action: 'login.locked', target: key, address: request.ip }, now)
      throw new AuthenticationError('the password or code is wrong')
    }
  }

  return async app => {
    app.post('/me/totp', {
      config: { access: 'user' },
      schema: {
        summary: 'Start two-step sign-in: a new TOTP secret, its otpauth:// URI and a QR code of it (confirm with a code next)',
        tags: ['two-factor'],
        body: emptyBody,
        response: responses(closed({ secret: { type: 'string' }, otpauthUri: { type: 'string' }, qrSvg: { type: 'string' } }))
      }
    }, async request => {
      const { user } = sessionPrincipalOf(request)
      if (user.totpSecret !== undefined) throw new ConflictError('two-step sign-in is already on; turn it off first to move it to another app')
      const secret = newTotpSecret()
      accounts.setTotp(user.id, { pendingSecret: secret })
      const otpauthUri = totpUri({ secret, account: user.email, issuer: `Aerie (${ctx.api.org().name})` })
      const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
      return { secret, otpauthUri, qrSvg }
    })

    app.post<{ Body: { code: string } }>('/me/totp/confirm', {
      config: { access: 'user' },
      schema: {
        summary: 'Turn two-step sign-in on with the app\'s current code; answers with ten one-time recovery codes',
        tags: ['two-factor'],
        body: closed({ code: codeSchema }),
        response: responses(recoveryCodesSchema)
      }
    }, async request => {
      const { user } = sessionPrincipalOf(request)
      const now = ctx.now()
      if (user.totpPendingSecret === undefined) throw new ConflictError('start two-step sign-in first (POST /api/v1/me/totp)')
      const step = matchTotp(user.totpPendingSecret, request.body.code, now)
      if (step === undefined || !accounts.useTotpStep(user.id, step)) {
        throw new InvalidInputError('the code does not match; check that the phone\'s clock is right and type the code the app shows now')
      }
      accounts.setTotp(user.id, { secret: user.totpPendingSecret })
      const recoveryCodes = newCodes(user)
      audit.record({ actor: user.email, action: 'totp.enabled', target: user.email, address: request.ip }, now)
      return { recoveryCodes }
    })

    app.post<{ Body: { password: string, code: string } }>('/me/totp/disable', {
      config: { access: 'user' },
      schema: {
        summary: 'Turn two-step sign-in off (needs the password and a current code or a recovery code)',
        tags: ['two-factor'],
        body: closed({ password: passwordSchema, code: codeSchema }),
        response: responses(okSchema)
      }
    }, async request => {
      const { user } = sessionPrincipalOf(request)
      if (user.totpSecret === undefined) throw new ConflictError('two-step sign-in is not on')
      await reauthenticate(request, user, request.body.password, request.body.code)
      accounts.setTotp(user.id, {})
      accounts.replaceRecoveryCodes(user.id, [])
      audit.record({ actor: user.email, action: 'totp.disabled', target: user.email, address: request.ip }, ctx.now())
      return { ok: true }
    })

    app.post<{ Body: { password: string } }>('/me/recovery-codes', {
      config: { access: 'user' },
      schema: {
        summary: 'Replace your recovery codes with ten new ones (the old ones stop working)',
        tags: ['two-factor'],
        body: closed({ password: passwordSchema }),
        response: responses(recoveryCodesSchema)
      }
    }, async request => {
      const { user } = sessionPrincipalOf(request)
      if (user.totpSecret === undefined) throw new ConflictError('recovery codes come with two-step sign-in; turn it on first')
      await reauthenticate(request, user, request.body.password)
      const recoveryCodes = newCodes(user)
      audit.record({ actor: user.email, action: 'recovery_codes.replaced', target: user.email, address: request.ip }, ctx.now())
      return { recoveryCodes }
    })
  }
}
