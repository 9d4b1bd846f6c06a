import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab } from './support/agents.ts'
import { ARTIFACTS, launchChromium } from './support/chromium.ts'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Device } from './support/agents.ts'

// Settings in a real headless Chromium against real agents: the agent's log (live, filtered,
// copied), LAN-only mode and bandwidth limits.
describe('the desktop UI\'s Settings', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let browser: Browser
  let context: BrowserContext
  let a: Page

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    a = await context.newPage()
    a.setDefaultTimeout(30_000)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await lab.stopAll()
  })

  it('shows the agent\'s log, newest last and live, with a filter and a copy button', async () => {
    await a.goto((await alice.ok('ui')).trim())
    await a.getByRole('link', { name: 'Settings' }).click()
    const log = a.getByRole('log', { name: 'Agent log, newest last' })
    await log.getByText(/connected to bob/).first().waitFor()
    await log.getByText(/listening on/).first().waitFor()

    // A line logged now appears without a reload.
    await bob.stop()
    await log.getByText('disconnected from bob').first().waitFor()
    const texts = await log.locator('p').allTextContents()
    expect(texts.findIndex(t => t.includes('disconnected from bob'))).toBeGreaterThan(texts.findIndex(t => t.includes('listening on')))

    await a.getByLabel('Show only lines containing').fill('disconnected')
    await a.getByText(/^\d+ of \d+ lines match$/).waitFor()
    expect((await log.locator('p').allTextContents()).every(t => t.includes('disconnected'))).toBe(true)

    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await a.getByRole('button', { name: 'Copy log' }).click()
    await a.getByText(/^Copied \d+ log lines/).waitFor()
    const copied = await a.evaluate('navigator.clipboard.readText()') as string
    expect(copied).toContain('disconnected from bob')
    expect(copied).not.toContain('listening on')
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-settings-log.png'), fullPage: true })
    await bob.start()
  })
})
