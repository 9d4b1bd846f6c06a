import { describe, expect, it } from 'vitest'
import { hashShareToken, looksLikeShareToken, newShareToken, tokenMatches } from '../../src/share/index.ts'

describe('share link tokens', () => {
  it('carry 256 random bits, URL-safe, and differ every time', () => {
    const tokens = Array.from({ length: 200 }, () => newShareToken())
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Buffer.from(token, 'base64url').byteLength).toBe(32)
      expect(encodeURIComponent(token)).toBe(token)
      expect(looksLikeShareToken(token)).toBe(true)
    }
    expect(new Set(tokens).size).toBe(tokens.length)
  })

  it('are stored as their SHA-256 and match only themselves', () => {
    const token = newShareToken()
    const hash = hashShareToken(token)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(hash).not.toContain(token)
    expect(tokenMatches(token, hash)).toBe(true)
    expect(tokenMatches(newShareToken(), hash)).toBe(false)
    expect(tokenMatches(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), hash)).toBe(false)
    // A malformed stored hash never matches (and never throws).
    expect(tokenMatches(token, 'abc')).toBe(false)
  })

  it('refuses what is not shaped like a token', () => {
    for (const bad of ['', 'short', 'A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(42)}/`, `${'A'.repeat(42)}=`, '..%2F..%2Fetc']) {
      expect(looksLikeShareToken(bad), bad).toBe(false)
    }
  })
})
