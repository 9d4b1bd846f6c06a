import { describe, expect, it } from 'vitest'
import { checkSharePolicy, checkShareRequest, DEFAULT_SHARE_POLICY, shareState } from '../../src/share/index.ts'
import type { SharePolicy } from '../../src/share/index.ts'

const NOW = new Date('2030-01-01T00:00:00Z')
const DAY = 86400
const policy: SharePolicy = { maxLifetimeSeconds: 7 * DAY, passwordRequired: false, maxUploadBytes: 1000 }

describe('share link policy', () => {
  it('sets the expiry from seconds or from a time, within the maximum lifetime', () => {
    expect(checkShareRequest({ kind: 'file', expiresIn: DAY }, policy, NOW)).toEqual({ expiresAt: new Date('2030-01-02T00:00:00Z'), uploadOnly: false })
    expect(checkShareRequest({ kind: 'file', expiresAt: new Date('2030-01-08T00:00:00Z') }, policy, NOW).expiresAt).toEqual(new Date('2030-01-08T00:00:00Z'))
    expect(() => checkShareRequest({ kind: 'file', expiresIn: 7 * DAY + 1 }, policy, NOW)).toThrow(/at most 7 days/)
    expect(() => checkShareRequest({ kind: 'file', expiresAt: new Date('2029-12-31T00:00:00Z') }, policy, NOW)).toThrow(/before it is made/)
    expect(() => checkShareRequest({ kind: 'file' }, policy, NOW)).toThrow(/one of the two/)
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY, expiresAt: NOW }, policy, NOW)).toThrow(/one of the two/)
    expect(() => checkShareRequest({ kind: 'file', expiresAt: new Date('nonsense') }, policy, NOW)).toThrow(/future/)
  })

  it('requires a password when the organisation does, and a long enough one', () => {
    const strict = { ...policy, passwordRequired: true }
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY }, strict, NOW)).toThrow(/requires a password/)
    expect(checkShareRequest({ kind: 'file', expiresIn: DAY, password: 'long enough' }, strict, NOW).uploadOnly).toBe(false)
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY, password: 'short' }, policy, NOW)).toThrow(/8 to 1024/)
  })

  it('limits downloads by a whole number, and uploads only into folders', () => {
    expect(checkShareRequest({ kind: 'file', expiresIn: DAY, maxDownloads: 3 }, policy, NOW).maxDownloads).toBe(3)
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY, maxDownloads: 0 }, policy, NOW)).toThrow(/at least 1/)
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY, maxDownloads: 1.5 }, policy, NOW)).toThrow(/whole number/)
    expect(() => checkShareRequest({ kind: 'file', expiresIn: DAY, uploadOnly: true }, policy, NOW)).toThrow(/needs a folder/)
    expect(checkShareRequest({ kind: 'folder', expiresIn: DAY, uploadOnly: true }, policy, NOW)).toEqual({ expiresAt: new Date('2030-01-02T00:00:00Z'), uploadOnly: true, maxUploadBytes: 1000 })
    expect(checkShareRequest({ kind: 'folder', expiresIn: DAY, uploadOnly: true, maxUploadBytes: 10 }, policy, NOW).maxUploadBytes).toBe(10)
    expect(() => checkShareRequest({ kind: 'folder', expiresIn: DAY, uploadOnly: true, maxUploadBytes: 1001 }, policy, NOW)).toThrow(/at most 1000 bytes/)
    expect(() => checkShareRequest({ kind: 'folder', expiresIn: DAY, uploadOnly: true, maxDownloads: 1 }, policy, NOW)).toThrow(/serves no downloads/)
    expect(() => checkShareRequest({ kind: 'folder', expiresIn: DAY, maxUploadBytes: 1 }, policy, NOW)).toThrow(/upload-only/)
  })

  it('keeps an administrator\'s policy within bounds', () => {
    expect(checkSharePolicy(DEFAULT_SHARE_POLICY)).toEqual(DEFAULT_SHARE_POLICY)
    expect(() => checkSharePolicy({ ...policy, maxLifetimeSeconds: 10 })).toThrow(/from 60/)
    expect(() => checkSharePolicy({ ...policy, maxLifetimeSeconds: 400 * DAY })).toThrow(/366 days/)
    expect(() => checkSharePolicy({ ...policy, maxUploadBytes: 0 })).toThrow(/at least 1/)
  })
})

describe('share link state', () => {
  const link = { expiresAt: new Date('2030-01-02T00:00:00Z'), downloads: 0 }
  it('is active until it expires, is revoked or has served its downloads', () => {
    expect(shareState(link, NOW)).toBe('active')
    expect(shareState(link, new Date('2030-01-02T00:00:00Z'))).toBe('expired')
    expect(shareState({ ...link, revokedAt: NOW }, NOW)).toBe('revoked')
    expect(shareState({ ...link, maxDownloads: 2, downloads: 1 }, NOW)).toBe('active')
    expect(shareState({ ...link, maxDownloads: 2, downloads: 2 }, NOW)).toBe('exhausted')
  })

  it('names the most useful reason when several apply', () => {
    const all = { expiresAt: NOW, revokedAt: NOW, maxDownloads: 1, downloads: 1 }
    expect(shareState(all, NOW)).toBe('revoked')
    expect(shareState({ ...all, revokedAt: undefined }, NOW)).toBe('expired')
  })
})
