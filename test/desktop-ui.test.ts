import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ARTIFACTS, launchChromium } from './support/chromium.ts'
import { syncStatus, untilSame } from './support/shared-folder.ts'
import type { Browser, Page } from 'playwright-core'
import type { Device } from './support/agents.ts'

/** node:http, so that the test, not the client, chooses Host and Origin. */
async function call (url: string, headers: Record<string, string> = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => { res.resume(); resolve(res.statusCode!) })
    req.on('error', reject)
    req.end()
  })
}

/** Marks the page; the mark survives only if the page is never reloaded. */
async function mark (page: Page): Promise<void> {
  await page.evaluate('window.aerieMark = "not reloaded"')
}

async function stillMarked (page: Page): Promise<boolean> {
  return await page.evaluate('window.aerieMark === "not reloaded"')
}

// The desktop UI as a person uses it, in a real headless Chromium against real agents: add a
// folder, share it, accept it on a second device and watch it sync live, resolve conflicts,
// restore a version. The UI's API lets in only its own page with the secret.
describe('the desktop UI, end to end', () => {
  const lab = new Lab()
  let alice: Device
  let bob: Device
  let browser: Browser
  let a: Page
  let b: Page
  let aliceDir: string
  let bobDir: string
  let folderId: string

  beforeAll(async () => {
    ;[alice, bob] = await lab.connected('alice', 'bob') as [Device, Device]
    aliceDir = join(alice.home, '..', 'alice-plans')
    bobDir = join(bob.home, '..', 'bob-plans')
    await mkdir(aliceDir)
    await mkdir(bobDir)
    await writeFile(join(aliceDir, 'plan.txt'), 'the original plan\n')
    await writeFile(join(aliceDir, 'budget.txt'), 'the original budget\n')
    await writeFile(join(aliceDir, 'notes.txt'), 'first notes\n')
    browser = await launchChromium()
    // One browser context per device, as two people on two machines.
    a = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    b = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    a.setDefaultTimeout(30_000)
    b.setDefaultTimeout(30_000)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await lab.stopAll()
  })

  it('refuses the API without the secret, from another origin, and under another Host name', async () => {
    const link = (await alice.ok('ui')).trim()
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#secret=[\w-]{43}$/)
    expect(alice.log).toMatch(/UI at http:\/\/127\.0\.0\.1:\d+\//)
    expect(alice.log).not.toContain(link.split('#secret=')[1])
    const base = link.split('/#')[0]!
    const secret = link.split('#secret=')[1]!
    const bearer = { authorization: `Bearer ${secret}` }
    expect(await call(`${base}/api/v1/status`)).toBe(401)
    expect(await call(`${base}/api/v1/events`)).toBe(401)
    expect(await call(`${base}/api/v1/status`, bearer)).toBe(200)
    expect(await call(`${base}/api/v1/status`, { ...bearer, origin: 'http://evil.example' })).toBe(403)
    expect(await call(`${base}/api/v1/status`, { ...bearer, host: `evil.example:${new URL(base).port}` })).toBe(421)

    // A page without the link's secret gets no data, only the advice to use `aerie ui`.
    await b.goto(`${base}/`)
    await b.getByRole('heading', { name: 'Open Aerie with its link' }).waitFor()
  })

  it('adds a folder, shares it, and the other device accepts it and syncs, all updating live', async () => {
    await a.goto((await alice.ok('ui')).trim())
    await a.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(a.url()).not.toContain('secret')
    await b.goto((await bob.ok('ui')).trim())
    await b.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await mark(b)

    await a.getByRole('link', { name: 'Settings' }).click()
    await a.getByLabel('Directory').fill(aliceDir)
    await a.getByLabel('Name (optional)').fill('Plans')
    await a.getByRole('button', { name: 'Add folder' }).click()
    await a.getByRole('link', { name: 'Plans' }).click()
    await a.getByRole('heading', { name: 'Plans' }).waitFor()
    await a.getByRole('cell', { name: 'plan.txt', exact: true }).waitFor()
    folderId = (await syncStatus(alice)).folders[0]!.id
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-settings-added.png'), fullPage: true })

    const bobId = (await bob.status()).deviceId
    await a.getByLabel('Share with device').fill(bobId)
    await a.getByRole('button', { name: 'Share', exact: true }).click()
    await a.getByRole('cell', { name: 'bob', exact: true }).waitFor()

    // Bob's dashboard, never reloaded, shows the offer.
    const offer = b.getByRole('form', { name: 'Offer of folder Plans' })
    await offer.waitFor()
    await offer.getByLabel('Where to keep it on this device').fill(bobDir)
    await b.getByRole('button', { name: 'Accept "Plans"' }).click()
    const card = b.getByRole('article', { name: 'Plans' })
    await card.getByText('Up to date').waitFor()
    await untilSame([aliceDir, bobDir], [alice, bob])
    expect(await offer.count()).toBe(0)
    await b.screenshot({ path: join(ARTIFACTS, 'desktop-ui-dashboard.png'), fullPage: true })

    // A new file on alice's side appears in bob's open folder page, without a reload.
    await card.getByRole('link', { name: 'Plans' }).click()
    await b.getByRole('cell', { name: 'plan.txt', exact: true }).waitFor()
    await writeFile(join(aliceDir, 'arrived-later.txt'), 'hello bob\n')
    await alice.ok('folder', 'rescan', folderId)
    await b.getByRole('cell', { name: 'arrived-later.txt', exact: true }).waitFor()
    expect(await stillMarked(b)).toBe(true)
    await b.screenshot({ path: join(ARTIFACTS, 'desktop-ui-folder.png'), fullPage: true })
  })

  it('resolves conflicts: keep both, and keep the other version', async () => {
    await bob.stop()
    await writeFile(join(aliceDir, 'plan.txt'), 'alice rewrote the plan\n')
    await writeFile(join(aliceDir, 'budget.txt'), 'alice cut the budget\n')
    await alice.ok('folder', 'rescan', folderId)
    // Later, so that bob's edits win and alice's become the conflict copies.
    await new Promise(resolve => setTimeout(resolve, 20))
    await writeFile(join(bobDir, 'plan.txt'), 'bob rewrote the plan\n')
    await writeFile(join(bobDir, 'budget.txt'), 'bob raised the budget\n')
    await bob.start()
    await untilSame([aliceDir, bobDir], [alice, bob])
    expect((await readdir(aliceDir)).filter(n => n.includes('.sync-conflict-'))).toHaveLength(2)

    await a.goto((await alice.ok('ui')).trim())
    await a.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await a.getByRole('article', { name: 'Plans' }).getByText('2 conflicts to resolve').waitFor()
    await a.getByRole('link', { name: 'Plans' }).click()
    await a.getByRole('heading', { name: 'Conflicts' }).waitFor()
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-conflicts.png'), fullPage: true })

    // Both versions open in the browser (sandboxed), as they are on disk.
    const opened = async (name: string): Promise<{ text: string, csp: string }> => {
      const href = await a.getByRole('link', { name }).getAttribute('href')
      const response = await a.request.get(new URL(href!, a.url()).href)
      expect(response.status()).toBe(200)
      return { text: await response.text(), csp: response.headers()['content-security-policy'] ?? '' }
    }
    expect(await opened('Open the current plan.txt')).toMatchObject({ text: 'bob rewrote the plan\n', csp: expect.stringContaining('sandbox') })
    expect((await opened('Open the other version of plan.txt')).text).toBe('alice rewrote the plan\n')
    // Nothing outside the folder: a path that climbs out is refused.
    const outside = await a.request.get(new URL(`/api/v1/folders/open?folder=${folderId}&path=..%2F..%2Fetc%2Fpasswd`, a.url()).href)
    expect(outside.status()).toBe(400)

    await a.getByRole('button', { name: 'Keep both versions of plan.txt' }).click()
    await a.getByRole('button', { name: 'Keep the other version of budget.txt' }).click()
    await a.getByRole('heading', { name: 'Conflicts' }).waitFor({ state: 'hidden' })
    expect(await readFile(join(aliceDir, 'plan.txt'), 'utf8')).toBe('bob rewrote the plan\n')
    expect(await readFile(join(aliceDir, 'plan (2).txt'), 'utf8')).toBe('alice rewrote the plan\n')
    expect(await readFile(join(aliceDir, 'budget.txt'), 'utf8')).toBe('alice cut the budget\n')
    expect((await readdir(aliceDir)).filter(n => n.includes('.sync-conflict-'))).toEqual([])
    await untilSame([aliceDir, bobDir], [alice, bob])
    expect(await readFile(join(bobDir, 'budget.txt'), 'utf8')).toBe('alice cut the budget\n')
  })

  it('restores a version the sync kept, and the restore syncs to the other device', async () => {
    // (While a version is restored or synced, the file is briefly absent: read it as empty then.)
    await writeFile(join(bobDir, 'notes.txt'), 'bob overwrote the notes\n')
    await bob.ok('folder', 'rescan', folderId)
    await waitFor(async () => await readFile(join(aliceDir, 'notes.txt'), 'utf8').catch(() => '') === 'bob overwrote the notes\n', 'bob\'s notes to reach alice')

    await a.getByRole('button', { name: 'Versions of notes.txt' }).click()
    await a.getByRole('button', { name: /^Restore notes\.txt as modified/ }).first().click()
    await a.getByRole('dialog').getByRole('button', { name: 'Restore' }).click()
    await waitFor(async () => await readFile(join(aliceDir, 'notes.txt'), 'utf8').catch(() => '') === 'first notes\n', 'the restore on alice')
    await waitFor(async () => await readFile(join(bobDir, 'notes.txt'), 'utf8').catch(() => '') === 'first notes\n', 'the restored notes to reach bob')
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-versions.png'), fullPage: true })
  })

  it('is readable at 200% zoom and every action is a real, labelled control', async () => {
    await a.goto((await alice.ok('ui')).trim())
    await a.getByRole('link', { name: 'Plans' }).click()
    await a.getByRole('heading', { name: 'Plans' }).waitFor()
    // 200% zoom of a 1280 px wide window is a 640 px wide CSS viewport.
    await a.setViewportSize({ width: 640, height: 900 })
    expect(await a.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true)
    await a.screenshot({ path: join(ARTIFACTS, 'desktop-ui-folder-200pct.png'), fullPage: true })
    const unlabelled = await a.evaluate('[...document.querySelectorAll("input, select")].filter(el => el.labels.length === 0).map(el => el.outerHTML)')
    expect(unlabelled).toEqual([])
    // Actions are buttons and links, never clickable divs a keyboard cannot reach.
    const clickables = await a.evaluate('document.querySelectorAll("[onclick], div[tabindex], span[tabindex]").length')
    expect(clickables).toBe(0)
    // Keyboard: on a fresh page, Tab reaches the skip link first.
    await a.reload()
    await a.getByRole('heading', { name: 'Plans' }).waitFor()
    await a.keyboard.press('Tab')
    expect(await a.evaluate('document.activeElement.textContent')).toBe('Skip to content')
  })

  it('pauses a folder from its screen and resumes it, saying so in words', async () => {
    const stateOf = async (): Promise<string | undefined> => ((await bob.status()) as unknown as { folders: Array<{ id: string, state: string }> }).folders.find(f => f.id === folderId)?.state
    await b.goto((await bob.ok('ui')).trim())
    await b.getByRole('link', { name: 'Plans' }).click()
    await b.getByRole('button', { name: 'Pause syncing' }).click()
    await b.getByRole('button', { name: 'Resume syncing' }).waitFor()
    await b.locator('.badge', { hasText: 'Paused' }).first().waitFor()
    expect(await stateOf()).toBe('paused')
    await b.getByRole('button', { name: 'Resume syncing' }).click()
    await b.getByRole('button', { name: 'Pause syncing' }).waitFor()
    await waitFor(async () => await stateOf() !== 'paused', 'the folder to sync again')
  })

  it('stops syncing a folder from Settings, after asking, and leaves its files alone', async () => {
    await b.goto((await bob.ok('ui')).trim())
    await b.getByRole('link', { name: 'Settings' }).click()
    await b.getByRole('button', { name: 'Stop syncing Plans' }).click()
    await b.getByRole('dialog').getByRole('button', { name: 'Stop syncing' }).click()
    await b.getByText('This device syncs no folders yet.').waitFor()
    expect((await syncStatus(bob)).folders).toEqual([])
    expect(await readFile(join(bobDir, 'plan.txt'), 'utf8')).toBe('bob rewrote the plan\n')
    await b.screenshot({ path: join(ARTIFACTS, 'desktop-ui-settings.png'), fullPage: true })
  })
})
