import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readZip } from '../share/zip-reader.ts'
import { ARTIFACTS, launchChromium } from './chromium.ts'
import { setUpAdmin, startWebApp } from './harness.ts'
import type { Client, RunningWebApp } from './harness.ts'
import { makeShare } from './share-helpers.ts'

// Share links in a real headless Chromium against the real web app (fake team server behind
// it): made from the console's folder page, opened by an outsider with its password, a file and
// a folder zip downloaded and compared byte for byte, a file drop, and links that are gone.

describe('share links in a browser', () => {
  let web: RunningWebApp
  let browser: Browser
  let admin: Client
  let offsetMs = 0
  const problems: string[] = []
  const photo = randomBytes(200_000)
  const notes = Buffer.from('Notes for the client ✓\n')

  beforeAll(async () => {
    web = await startWebApp({ now: () => new Date(Date.now() + offsetMs) })
    admin = await setUpAdmin(web.base)
    web.api.contents.set('team-docs/handover/photo 1.jpg', photo)
    web.api.contents.set('team-docs/handover/notes "final".txt', notes)
    web.api.contents.set('team-docs/handover/inbox/readme.txt', Buffer.from('drop files here'))
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await web?.[Symbol.asyncDispose]()
  })

  const newPage = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    page.on('console', message => { if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text()) })
    page.on('pageerror', err => { problems.push(err.message) })
    return page
  }
  const signedIn = async (client: Client): Promise<{ context: BrowserContext, page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const [name, value] = client.cookie!.split('=') as [string, string]
    await context.addCookies([{ name, value, url: web.base }])
    return { context, page: await newPage(context) }
  }

  it('makes a link from the folder page; an outsider opens it with the password and downloads the file', async () => {
    const { context, page } = await signedIn(admin)
    let url: string
    try {
      await page.goto(`${web.base}/#/folders/team-docs/handover`)
      await page.getByRole('link', { name: 'Share photo 1.jpg' }).click()
      await page.getByRole('heading', { name: 'Make a share link' }).waitFor()
      expect(await page.getByLabel('File or directory').inputValue()).toBe('handover/photo 1.jpg')
      await page.getByLabel('Expires in (days)').fill('2')
      await page.getByLabel('Password (optional)').fill('open sesame 42')
      await page.getByLabel('Download limit (optional)').fill('5')
      await page.getByRole('button', { name: 'Make link' }).press('Enter')
      await page.getByRole('heading', { name: 'Link to photo 1.jpg' }).waitFor()
      url = await page.locator('#share-url').inputValue()
      expect(url).toMatch(new RegExp(`^${web.base}/s/[A-Za-z0-9_-]{43}$`))
      const row = page.locator('#shares-title + .table-wrap tbody tr').first()
      expect(await row.textContent()).toMatch(/photo 1\.jpg.*✓ Active.*0 of 5.*Password/)
      await page.screenshot({ path: `${ARTIFACTS}share-console.png`, fullPage: true })
    } finally {
      await context.close()
    }

    const outsider = await browser.newContext({ acceptDownloads: true })
    try {
      const page = await newPage(outsider)
      await page.goto(url)
      await page.getByRole('heading', { name: 'This link needs a password' }).waitFor()
      await page.getByLabel('Password', { exact: true }).fill('not the password')
      const [wrong] = await Promise.all([page.waitForResponse(r => r.url().endsWith('/unlock')), page.getByRole('button', { name: 'Open' }).click()])
      expect(wrong.status()).toBe(401)
      await page.getByRole('alert').filter({ hasText: 'That password is not right' }).waitFor()
      await page.getByLabel('Password', { exact: true }).fill('open sesame 42')
      await page.getByRole('button', { name: 'Open' }).click()
      await page.getByRole('heading', { name: 'photo 1.jpg' }).waitFor()
      expect(await page.locator('main').textContent()).toMatch(/200 KB[\s\S]*Downloads left[\s\S]*5 of 5/)
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download photo 1.jpg' }).click()])
      expect(download.suggestedFilename()).toBe('photo 1.jpg')
      expect((await readFile((await download.path())!)).equals(photo)).toBe(true)
      await page.screenshot({ path: `${ARTIFACTS}share-file-page.png`, fullPage: true })
    } finally {
      await outsider.close()
    }
    expect(problems).toEqual([])
  })

  it('browses a folder link and downloads it as a zip with the same bytes', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'handover' })
    const context = await browser.newContext({ acceptDownloads: true })
    try {
      const page = await newPage(context)
      await page.goto(url)
      await page.getByRole('heading', { name: 'handover' }).waitFor()
      expect(await page.locator('#share-listing tbody th').allTextContents()).toEqual(['▸ inbox/ (directory)', 'notes "final".txt', 'photo 1.jpg'])
      await page.getByRole('link', { name: 'inbox/' }).click()
      await page.getByRole('link', { name: 'readme.txt' }).waitFor()
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'handover' }).click()
      const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'notes "final".txt' }).click()])
      // Chromium itself turns quotes into _ when it saves (the header's exact name: share-link-downloads.test.ts).
      expect(file.suggestedFilename()).toBe('notes _final_.txt')
      expect((await readFile((await file.path())!)).equals(notes)).toBe(true)
      const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download everything as .zip' }).click()])
      expect(zip.suggestedFilename()).toBe('handover.zip')
      const entries = readZip(await readFile((await zip.path())!))
      expect(Object.fromEntries(entries.map(e => [e.name, e.data.toString('base64')]))).toEqual({
        'inbox/readme.txt': Buffer.from('drop files here').toString('base64'),
        'notes "final".txt': notes.toString('base64'),
        'photo 1.jpg': photo.toString('base64')
      })
    } finally {
      await context.close()
    }
    expect(problems).toEqual([])
  })

  it('takes files through a file drop', async () => {
    const { url } = await makeShare(admin, { folder: 'team-docs', path: 'handover/inbox', uploadOnly: true, maxUploadBytes: 1000 })
    const context = await browser.newContext()
    try {
      const page = await newPage(context)
      await page.goto(url)
      await page.getByRole('heading', { name: 'Send files' }).waitFor()
      expect(await page.locator('main').textContent()).not.toContain('readme')
      await page.getByLabel('Files', { exact: true }).setInputFiles([
        { name: 'readme.txt', mimeType: 'text/plain', buffer: Buffer.from('from outside') },
        { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2000) }
      ])
      await page.getByRole('button', { name: 'Send' }).click()
      await page.locator('#drop-results li').nth(1).waitFor()
      expect(await page.locator('#drop-results').textContent()).toMatch(/✓ Sent readme\.txt \(saved as readme \(2\)\.txt\)\.[\s\S]*✕ huge\.bin is larger than this link takes/)
      expect(Buffer.from(web.api.contents.get('team-docs/handover/inbox/readme (2).txt')!).toString()).toBe('from outside')
      expect(Buffer.from(web.api.contents.get('team-docs/handover/inbox/readme.txt')!).toString()).toBe('drop files here')
    } finally {
      await context.close()
    }
    expect(problems).toEqual([])
  })

  it('shows 410 for a link that expired, was revoked (from the console, after confirming) or is used up', async () => {
    const expiring = await makeShare(admin, { folder: 'team-docs', path: 'handover/photo 1.jpg', expiresIn: 60 })
    const revoked = await makeShare(admin, { folder: 'team-docs', path: 'handover/photo 1.jpg' })
    const once = await makeShare(admin, { folder: 'team-docs', path: 'handover/photo 1.jpg', maxDownloads: 1 })
    await (await fetch(`${once.url}/download`)).arrayBuffer()

    const { context, page } = await signedIn(admin)
    try {
      await page.goto(`${web.base}/#/shares`)
      const row = page.locator(`tr[data-share="${revoked.share.id}"]`)
      await row.getByRole('button', { name: 'Revoke the link to photo 1.jpg' }).focus()
      await page.keyboard.press('Enter')
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke link' }).click()
      await row.getByText('Revoked').waitFor()
      expect(await page.locator(`tr[data-share="${once.share.id}"]`).textContent()).toMatch(/Used up.*1 of 1/)
    } finally {
      await context.close()
    }
    offsetMs += 120_000

    const outsider = await browser.newContext()
    try {
      const page = await newPage(outsider)
      for (const [link, title] of [[expiring, 'This link has expired'], [revoked, 'This link was withdrawn'], [once, 'This link has been used up']] as const) {
        const response = await page.goto(link.url)
        expect(response?.status(), title).toBe(410)
        await page.getByRole('heading', { name: title }).waitFor()
        expect(await page.getByRole('alert').textContent()).toMatch(/✕/)
      }
      await page.screenshot({ path: `${ARTIFACTS}share-gone.png` })
    } finally {
      await outsider.close()
    }
    expect(problems).toEqual([])
  })
})
