import { describe, expect, it } from 'vitest'
import { ADMIN, Client, setUpAdmin, startWebApp } from './harness.ts'

const POLICY = { accountFailures: 3, addressFailures: 50, windowMs: 10 * 60_000, lockoutMs: 15 * 60_000 }

describe('login rate limit and lockout', () => {
  it('locks an account after repeated failures, refuses even the right password meanwhile, and lets it in afterwards', async () => {
    let clock = new Date('2030-05-01T09:00:00Z')
    await using web = await startWebApp({ throttle: POLICY, now: () => clock })
    await setUpAdmin(web.base)
    const client = new Client(web.base)
    for (let i = 0; i < 3; i++) {
      const wrong = await client.post('/api/v1/login', { email: ADMIN.email, password: 'not the password at all' })
      expect(wrong.status).toBe(401)
      expect(wrong.body.error).toEqual({ code: 'ERR_UNAUTHENTICATED', message: 'the email or password is wrong' })
    }
    const locked = await client.post('/api/v1/login', { email: ADMIN.email, password: ADMIN.password })
    expect(locked.status).toBe(429)
    expect(locked.body.error.code).toBe('ERR_RATE_LIMITED')
    expect(locked.body.error.message).toMatch(/try again in 15 minutes/)
    expect(locked.headers.get('retry-after')).toBe('900')
    expect(client.cookie).toBeUndefined()

    const actions = web.audit.list({ limit: 20 }).map(e => e.action).reverse()
    expect(actions).toEqual(['setup.completed', 'login.succeeded', 'login.failed', 'login.failed', 'login.failed', 'login.locked'])
    expect(web.audit.list({ limit: 1, action: 'login.locked' })[0]).toMatchObject({ actor: 'system', target: 'account:ada@example.org', address: '127.0.0.1' })

    clock = new Date(clock.getTime() + 15 * 60_000 + 1000)
    const later = await client.post('/api/v1/login', { email: ADMIN.email, password: ADMIN.password })
    expect(later.status).toBe(200)
    expect(later.body.status).toBe('signed-in')
  })

  it('treats an unknown email like a wrong password (same answer, same lockout)', async () => {
    const clock = new Date('2030-05-01T09:00:00Z')
    await using web = await startWebApp({ throttle: POLICY, now: () => clock })
    const client = new Client(web.base)
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await client.post('/api/v1/login', { email: 'nobody@example.org', password: 'whatever it is' }))
    expect(answers.map(a => a.status)).toEqual([401, 401, 401, 429])
    expect(answers[0]!.body).toEqual(answers[1]!.body)
  })
})
