import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, launchChromium } from './chromium.ts'
import { addUser, setUpAdmin, startWebApp } from './harness.ts'
import type { Client, RunningWebApp } from './harness.ts'

// The console's folder page in a real headless Chromium against the real web app (fake team server
// behind it): browse the central copy, open a file's versions, restore, change retention.

describe('folder page in a browser', () => {
  let web: RunningWebApp
  let browser: Browser
  let admin: Client
  let carol: Client
  const problems: string[] = []

  beforeAll(async () => {
    web = await startWebApp()
    admin = await setUpAdmin(web.base)
    carol = await addUser(admin, 'carol@example.org')
    web.api.deviceList.push({ deviceId: 'carolphone000003', deviceName: 'Carol phone', user: 'carol@example.org', issuedAt: '2030-01-04T00:00:00.000Z', online: false })
    web.api.folderList[0]!.members.push({ deviceId: 'carolphone000003', role: 'viewer' })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await web?.[Symbol.asyncDispose]()
  })

  // A browser signed in with the client's session, and a page in it that reports script and CSP errors.
  const signedIn = async (client: Client, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext, page: Page }> => {
    const context = await browser.newContext({ viewport })
    const [name, value] = client.cookie!.split('=') as [string, string]
    await context.addCookies([{ name, value, url: web.base }])
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('console', message => { if (message.type() === 'error') problems.push(message.text()) })
    page.on('pageerror', err => { problems.push(err.message) })
    return { context, page }
  }

  it('browses a folder, shows deleted files, restores versions and changes retention as an admin', async () => {
    const { context, page } = await signedIn(admin)
    try {
      // 1. From the folders list to the folder page.
      await page.goto(`${web.base}/#/folders`)
      await page.getByRole('link', { name: 'Files and versions of Team docs' }).click()
      await page.getByRole('heading', { name: 'Team docs', level: 1 }).waitFor()
      expect(new URL(page.url()).hash).toBe('#/folders/team-docs')
      const rows = page.locator('#file-listing tbody tr')
      expect(await rows.evaluateAll(trs => trs.map(tr => tr.getAttribute('data-path')))).toEqual(['plans', 'budget.xlsx', 'old notes.txt'])

      // 2. A deleted file: struck through, and said in words and by an icon, not by colour alone.
      const deleted = page.locator('tr[data-path="old notes.txt"]')
      expect(await deleted.locator('th').textContent()).toMatch(/old notes\.txt.*✕.*Deleted/)
      expect(await page.evaluate(`getComputedStyle(document.querySelector('tr[data-path="old notes.txt"] del')).textDecorationLine`)).toBe('line-through')
      expect(await page.locator('tr[data-path="budget.xlsx"]').textContent()).not.toContain('Deleted')

      // 3. Into a directory and back by the breadcrumb.
      await page.getByRole('link', { name: 'plans/ (directory)' }).click()
      await page.getByRole('heading', { name: 'Files in plans' }).waitFor()
      expect(new URL(page.url()).hash).toBe('#/folders/team-docs/plans')
      expect(await rows.evaluateAll(trs => trs.map(tr => tr.getAttribute('data-path')))).toEqual(['plans/q1.md'])
      const breadcrumb = page.getByRole('navigation', { name: 'Breadcrumb' })
      expect(await breadcrumb.getByRole('link').allTextContents()).toEqual(['Team docs', 'plans'])
      expect(await breadcrumb.getByRole('link', { name: 'plans' }).getAttribute('aria-current')).toBe('location')
      await breadcrumb.getByRole('link', { name: 'Team docs' }).click()
      await page.getByRole('heading', { name: 'Files', exact: true }).waitFor()

      // 4. A file's versions, opened from the keyboard: focus moves to the list.
      await page.getByRole('button', { name: 'Versions of budget.xlsx' }).focus()
      await page.keyboard.press('Enter')
      await page.getByRole('heading', { name: 'Versions of budget.xlsx' }).waitFor()
      expect(await page.evaluate('document.activeElement?.id')).toBe('versions-title')
      expect(await page.getByRole('button', { name: 'Versions of budget.xlsx' }).getAttribute('aria-expanded')).toBe('true')
      const versions = page.locator('#versions tbody tr')
      expect(await versions.count()).toBe(2)
      expect(await versions.nth(0).textContent()).toContain('Current')
      expect(await versions.nth(0).getByRole('button').count()).toBe(0)
      expect(await versions.nth(1).textContent()).toContain("Bob's desktop")

      // 5. Restore, after confirming (cancel first: nothing happens).
      const restoreButton = versions.nth(1).getByRole('button', { name: 'Restore this version' })
      await restoreButton.click()
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
      expect(web.api.restores).toEqual([])
      await restoreButton.click()
      await page.getByRole('dialog').getByRole('button', { name: 'Restore version' }).click()
      await page.locator('#restore-result').getByText(/Restored budget\.xlsx to the version modified/).waitFor()
      expect(web.api.restores).toEqual([{ folder: 'team-docs', path: 'budget.xlsx', at: new Date('2030-01-02T10:00:00.999Z'), actor: 'ada@example.org' }])
      // The list is reloaded: the restored version is current, the one it replaced kept.
      expect(await versions.count()).toBe(3)
      expect(await versions.nth(0).textContent()).toMatch(/this server.*Current/)
      await shot(page, 'folder')

      // 6. A deleted file comes back.
      await page.getByRole('button', { name: 'Versions of old notes.txt' }).click()
      await page.getByRole('heading', { name: 'Versions of old notes.txt' }).waitFor()
      expect(await versions.nth(0).textContent()).toMatch(/Deleted.*Current/)
      await versions.nth(1).getByRole('button', { name: 'Restore this version' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Restore version' }).click()
      await page.locator('#restore-result').getByText(/Restored old notes\.txt/).waitFor()
      expect(await deleted.textContent()).not.toContain('Deleted')
      expect(await deleted.locator('del').count()).toBe(0)
      await page.getByRole('button', { name: 'Close versions' }).click()
      expect(await page.locator('#versions').isHidden()).toBe(true)
      expect(await page.evaluate("document.activeElement?.getAttribute('aria-label')")).toBe('Versions of old notes.txt')

      // 7. Retention: a value out of bounds is refused with the server's reason; then a good one is saved.
      expect(await page.locator('#retention-summary').textContent()).toContain('up to 30 versions of each file, each for 90 days')
      await page.getByLabel('Keep versions').fill('0')
      await page.getByRole('button', { name: 'Save retention policy' }).click()
      await page.locator('#retention-form .form-error').getByText(/keepVersions must be >= 1/).waitFor()
      await page.getByLabel('Keep versions').fill('5')
      await page.getByLabel('For days').fill('0')
      await page.getByRole('button', { name: 'Save retention policy' }).click()
      await page.getByText('Retention policy saved. Versions beyond it are removed now.').waitFor()
      expect(web.api.policies.get('team-docs')).toEqual({ keepVersions: 5, maxAgeDays: 0 })
      expect(await page.locator('#retention-summary').textContent()).toContain('up to 5 versions of each file, for ever')
      expect(web.audit.list({ limit: 10 }).map(e => e.action)).toEqual(expect.arrayContaining(['version.restored', 'folder.retention_changed']))
      await shot(page, 'folder-retention')

      // Only the refused retention answered with an error.
      expect(problems.filter(p => !/status of 400/.test(p))).toEqual([])
      expect(problems.filter(p => /status of 400/.test(p))).toHaveLength(1)
    } finally {
      await context.close()
    }
  })

  it('lets a viewer browse and see versions, but not restore or change retention', async () => {
    problems.length = 0
    const { context, page } = await signedIn(carol)
    try {
      await page.goto(`${web.base}/#/folders/team-docs`)
      await page.getByRole('heading', { name: 'Team docs', level: 1 }).waitFor()
      await page.getByRole('button', { name: 'Versions of budget.xlsx' }).click()
      await page.getByRole('heading', { name: 'Versions of budget.xlsx' }).waitFor()
      expect(await page.locator('#versions tbody tr').count()).toBeGreaterThan(1)
      expect(await page.getByRole('button', { name: 'Restore this version' }).count()).toBe(0)
      expect(await page.locator('#retention-summary').textContent()).toContain('The team server keeps up to')
      expect(await page.locator('#retention-form').count()).toBe(0)
      expect(problems).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('stays usable at 200% zoom: only wide tables scroll sideways', async () => {
    const { context, page } = await signedIn(admin, { width: 640, height: 900 })
    try {
      await page.goto(`${web.base}/#/folders/team-docs/plans`)
      await page.getByRole('heading', { name: 'Files in plans' }).waitFor()
      await page.getByRole('button', { name: 'Versions of q1.md' }).click()
      await page.getByRole('heading', { name: 'Versions of plans/q1.md' }).waitFor()
      // 1280 px at 200% is a 640 px layout viewport.
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(640)
      await shot(page, 'folder-narrow')
    } finally {
      await context.close()
    }
  })
})

function shot (page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: `${ARTIFACTS}server-console-${name}.png`, fullPage: true })
}
