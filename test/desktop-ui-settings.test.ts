import { mkdir, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { shareFolder, untilSame } from './support/shared-folder.ts'
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

  it('turns LAN-only mode on, says what it means, and still connects over loopback', async () => {
    await a.goto((await alice.ok('ui')).trim())
    await a.getByRole('link', { name: 'Settings' }).click()
    await a.getByText('Connects to devices anywhere').waitFor()
    await a.getByLabel('LAN only').check()
    await a.getByRole('button', { name: 'Save settings' }).click()
    await a.getByText(/LAN only: devices outside the local network, a public team server too/).waitFor()
    const status = await alice.status() as unknown as { settings: { lanOnly: boolean } }
    expect(status.settings.lanOnly).toBe(true)
    expect(await alice.ok('config')).toMatch(/lan-only\s+on/)
    // 127.0.0.1 is local: bob still reaches alice, and alice bob.
    await waitFor(async () => await alice.connectedTo(bob), 'bob to connect to alice in LAN-only mode')
    expect(await bob.ok('peer', 'add', (await alice.status()).deviceId, await alice.address())).toMatch(/^connected to alice/)
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-settings-network.png'), fullPage: true })
    await a.getByLabel('LAN only').uncheck()
    await a.getByRole('button', { name: 'Save settings' }).click()
    await a.getByText('Connects to devices anywhere').waitFor()
  })

  it('limits the download rate at runtime, and the limit holds chunks back', async () => {
    const bobDir = join(bob.home, '..', 'bob-big')
    await mkdir(bobDir)
    await writeFile(join(bobDir, 'big.bin'), randomBytes(4 * 1024 * 1024))
    await a.getByLabel('Download limit (KiB/s)').fill('1024')
    await a.getByRole('button', { name: 'Save settings' }).click()
    await a.getByText(/download 1\.0 MiB\/s/).waitFor()
    const [aliceDir] = await shareFolder(bob, bobDir, 'big', [{ device: alice }])
    await untilSame([bobDir, aliceDir!], [bob, alice])
    // The mechanism, not the clock: 4 MiB through a 1 MiB/s bucket must wait (about 3 s in all).
    const { bandwidth } = await alice.status() as unknown as { bandwidth: { download: { bytes: number, delayedBytes: number, waits: number, waitedMs: number, rate: number } } }
    expect(bandwidth.download.rate).toBe(1024 * 1024)
    expect(bandwidth.download.bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024)
    expect(bandwidth.download.waits).toBeGreaterThan(0)
    expect(bandwidth.download.delayedBytes).toBeGreaterThan(0)
    await a.getByText(/the limits held back/).waitFor()
    expect(await alice.ok('config', 'download-limit', 'off')).toMatch(/download-limit\s+no limit/)
  })

  it('sets the share of each disk a pull keeps free, refusing what is out of range', async () => {
    expect(await a.getByLabel('Keep free on each disk (%)').inputValue()).toBe('1')
    await a.getByLabel('Keep free on each disk (%)').fill('5')
    await a.getByRole('button', { name: 'Save settings' }).click()
    await a.locator('#min-disk-free').getByText('Keeps 5% of each disk free').waitFor()
    expect(await alice.ok('config')).toMatch(/min-free\s+5% of each disk kept free/)
    expect((await alice.status() as unknown as { settings: { minDiskFree: number } }).settings.minDiskFree).toBe(5)
    // The agent checks what it is sent, whatever the form allows.
    const refused = await alice.control<unknown>('POST', '/v1/settings', { minDiskFree: 75 }).catch((err: Error) => err)
    expect(String(refused)).toMatch(/0 to 50/)
    expect(await alice.ok('config', 'min-free', '1')).toMatch(/min-free\s+1% of each disk/)
  })

  it('renames the device as this agent shows it, keeping the certificate\'s name', async () => {
    await a.getByLabel('Device name shown here').fill('alice laptop')
    await a.getByRole('button', { name: 'Save settings' }).click()
    await a.getByText('(its certificate, which other devices see, says "alice")').waitFor()
    expect((await alice.status()).deviceName).toBe('alice laptop')
  })
})
