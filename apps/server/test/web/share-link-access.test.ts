import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addUser, setUpAdmin, startWebApp } from './harness.ts'
import type { Client, Json, RunningWebApp } from './harness.ts'
import { makeShare } from './share-helpers.ts'

const unlock = (url: string, password: string, headers: Record<string, string> = {}) => fetch(`${url}/unlock`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams({ password }),
  redirect: 'manual'
})

describe('share links: passwords, expiry, revocation, limits and who may share', () => {
  let web: RunningWebApp
  let admin: Client
  let clock = new Date('2030-02-01T00:00:00Z')
  beforeAll(async () => {
    web = await startWebApp({ now: () => clock })
    admin = await setUpAdmin(web.base)
    web.api.contents.set('team-docs/report.txt', Buffer.from('the report'))
    web.api.contents.set('bob-private/diary.txt', Buffer.from('dear diary'))
  })
  afterAll(async () => { await web[Symbol.asyncDispose]() })

  it('asks for the password, says so when it is wrong (401), and opens for the right one with a cookie for that link only', async () => {
    const { url, token, share } = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', password: 'correct horse' })
    expect(share.hasPassword).toBe(true)
    const form = await fetch(url)
    expect(form.status).toBe(200)
    expect(await form.text()).toMatch(/needs a password/)
    const locked = await fetch(`${url}/download`)
    expect(locked.status).toBe(401)
    expect(await locked.text()).not.toContain('the report')

    const wrong = await unlock(url, 'wrong horse')
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).toMatch(/That password is not right/)
    const right = await unlock(url, 'correct horse')
    expect(right.status).toBe(303)
    expect(right.headers.get('location')).toBe(`/s/${token}`)
    const cookie = right.headers.getSetCookie()[0]!
    expect(cookie).toMatch(new RegExp(`^aerie-share=\\d+\\.[A-Za-z0-9_-]{43}; Path=/s/${token}; Expires=.*; HttpOnly; SameSite=Strict$`))
    const pair = cookie.split(';')[0]!
    const download = await fetch(`${url}/download`, { headers: { cookie: pair } })
    expect(download.status).toBe(200)
    expect(await download.text()).toBe('the report')
    // The cookie opens this link, not another one with a password.
    const other = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', password: 'correct horse' })
    expect((await fetch(`${other.url}/download`, { headers: { cookie: pair } })).status).toBe(401)
    expect((await fetch(`${url}/download`, { headers: { cookie: pair.replace(/.$/, c => c === 'A' ? 'B' : 'A') } })).status).toBe(401)
    // Nor another spelling of the same signature (base64url's last character has two spare bits).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const respelled = pair.replace(/.$/, c => alphabet[alphabet.indexOf(c) + 1]!)
    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(pair.split('.')[1]!, 'base64url'))
    expect((await fetch(`${url}/download`, { headers: { cookie: respelled } })).status).toBe(401)

    const audit = (await admin.get('/api/v1/audit?action=share.password_failed')).body.entries
    expect(audit.some((e: Json) => e.target === share.id && e.actor === 'anonymous')).toBe(true)
  })

  it('slows guessing: per link, then per client address (429 with Retry-After)', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', password: 'correct horse' })
    let statuses: number[] = []
    for (let i = 0; i < 11; i++) statuses.push((await unlock(url, `guess ${i} long`)).status)
    expect(statuses.slice(0, 10).every(s => s === 401)).toBe(true)
    const limited = await unlock(url, 'correct horse')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await limited.text()).toMatch(/too many/i)

    // The same address guessing across links: locked once it has failed 20 times in all (10 above, 10 here).
    statuses = []
    for (let i = 0; i < 10; i++) {
      const fresh = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', password: 'correct horse' })
      statuses.push((await unlock(fresh.url, 'not it at all')).status)
    }
    const fresh = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', password: 'correct horse' })
    expect((await unlock(fresh.url, 'correct horse')).status).toBe(429)
    // The lockout ends.
    clock = new Date(clock.getTime() + 16 * 60_000)
    expect((await unlock(fresh.url, 'correct horse')).status).toBe(303)
  })

  it('answers an expired, revoked or used-up link with 410 and a page that says which', async () => {
    const expiring = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', expiresIn: 60 })
    const revoked = await makeShare(admin, { folder: 'team-docs', path: 'report.txt' })
    const once = await makeShare(admin, { folder: 'team-docs', path: 'report.txt', maxDownloads: 1 })

    expect((await admin.delete(`/api/v1/shares/${revoked.share.id}`)).body.share.state).toBe('revoked')
    expect(await (await fetch(`${once.url}/download`)).text()).toBe('the report')
    clock = new Date(clock.getTime() + 61_000)

    for (const [link, words] of [[expiring, /has expired/], [revoked, /withdrawn/], [once, /used up/]] as const) {
      for (const path of ['', '/download']) {
        const response = await fetch(`${link.url}${path}`)
        expect(response.status, `${link.share.id}${path}`).toBe(410)
        const text = await response.text()
        expect(text).toMatch(words)
        expect(text).not.toContain('the report')
      }
    }
    const listed = (await admin.get('/api/v1/shares')).body.shares as Json[]
    expect(listed.find(s => s.id === once.share.id)).toMatchObject({ downloads: 1, maxDownloads: 1, state: 'exhausted' })
    expect(listed.find(s => s.id === expiring.share.id).state).toBe('expired')
    expect(JSON.stringify(listed)).not.toContain(once.token)
    const audit = (await admin.get('/api/v1/audit?action=share.revoked')).body.entries
    expect(audit.map((e: Json) => e.target)).toContain(revoked.share.id)
  })

  it('lets users share only from folders their devices are members of, and see and revoke only their own links', async () => {
    const bob = await addUser(admin, 'bob@example.org')
    const carol = await addUser(admin, 'carol@example.org')
    const mine = await bob.post('/api/v1/shares', { folder: 'bob-private', path: 'diary.txt', expiresIn: 600 })
    expect(mine.status).toBe(200)
    expect((await carol.post('/api/v1/shares', { folder: 'bob-private', path: 'diary.txt', expiresIn: 600 })).status).toBe(404)
    expect((await carol.get('/api/v1/shares')).body.shares).toEqual([])
    expect((await carol.delete(`/api/v1/shares/${mine.body.share.id}`)).status).toBe(404)
    expect((await bob.get('/api/v1/shares')).body.shares.map((s: Json) => s.id)).toEqual([mine.body.share.id])
    expect((await admin.get('/api/v1/shares')).body.shares.map((s: Json) => s.id)).toContain(mine.body.share.id)
    expect((await bob.post('/api/v1/shares', { folder: 'bob-private', path: 'nope.txt', expiresIn: 600 })).status).toBe(404)
    expect((await bob.post('/api/v1/shares', { folder: 'bob-private', path: '../x', expiresIn: 600 })).status).toBe(400)
    const created = (await admin.get('/api/v1/audit?action=share.created')).body.entries
    expect(created.some((e: Json) => e.actor === 'bob@example.org' && e.target === mine.body.share.id && e.detail.path === 'diary.txt')).toBe(true)
  })

  it('enforces the organisation\'s policy, which administrators set', async () => {
    expect((await admin.get('/api/v1/share-policy')).body).toEqual({ maxLifetimeSeconds: 30 * 86400, passwordRequired: false, maxUploadBytes: 1024 ** 3 })
    const put = await admin.request('PUT', '/api/v1/share-policy', { maxLifetimeSeconds: 86400, passwordRequired: true, maxUploadBytes: 1000 })
    expect(put.status).toBe(200)
    const long = await admin.post('/api/v1/shares', { folder: 'team-docs', path: 'report.txt', expiresIn: 2 * 86400, password: 'long enough' })
    expect(long.status).toBe(400)
    expect(long.body.error.message).toMatch(/at most 1 days|at most 86400 seconds|at most 1 day/)
    const bare = await admin.post('/api/v1/shares', { folder: 'team-docs', path: 'report.txt', expiresIn: 3600 })
    expect(bare.body.error.message).toMatch(/requires a password/)
    expect((await admin.post('/api/v1/shares', { folder: 'team-docs', path: 'report.txt', expiresIn: 3600, password: 'long enough' })).status).toBe(200)
    const audit = (await admin.get('/api/v1/audit?action=share.policy_changed')).body.entries
    expect(audit[0].detail).toMatchObject({ maxLifetimeSeconds: 86400, passwordRequired: true })
    await admin.request('PUT', '/api/v1/share-policy', { maxLifetimeSeconds: 30 * 86400, passwordRequired: false, maxUploadBytes: 1024 ** 3 })
  })
})
