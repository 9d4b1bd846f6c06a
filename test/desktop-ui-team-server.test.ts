import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import QRCode from 'qrcode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, waitFor } from './support/agents.ts'
import { ARTIFACTS, launchChromium } from './support/chromium.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { Device } from './support/agents.ts'

// The desktop UI's screens that need the organisation's team server, in a real headless
// Chromium against real agents and a real aerie-server: share links (create, copy, revoke),
// what a device without an account is told, backup (set, run with progress, browse, restore),
// and the first run: a device that is not enrolled enrolls from the UI with a code, pasted or
// as a picture of its QR code.

const BIN = resolve(import.meta.dirname, '../apps/desktop/bin/aerie.js')

/** node:http, so that the test, not the client, chooses Host. */
async function call (url: string, headers: Record<string, string> = {}): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => { res.resume(); resolve(res.statusCode!) })
    req.on('error', reject)
    req.end()
  })
}
describe('the desktop UI with a team server', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let browser: Browser
  let context: BrowserContext
  let ada: Device
  let adaDir: string
  let page: Page
  const report = randomBytes(200_000)

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'aerie-desktop-ui-server-'))
    server = new ServerProcess(join(root, 'server'))
    await server.start()
    const admin = await server.setUpAdmin()
    expect((await admin.post('/api/v1/users', { email: 'ada@example.com', role: 'user', password: 'ada has a long password' })).status).toBe(200)

    ada = await lab.device('ada')
    await server.enroll(ada, 'ada')
    await ada.start()
    adaDir = join(root, 'ada-team')
    await mkdir(join(adaDir, 'docs'), { recursive: true })
    await writeFile(join(adaDir, 'docs/report.pdf'), report)
    await server.keepFolder(ada, adaDir, 'team', '--label', 'Team')

    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    page = await context.newPage()
    page.setDefaultTimeout(30_000)
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('shares a file from the folder screen with a download limit, copies the link, and revokes a folder link', async () => {
    await page.goto((await ada.ok('ui')).trim())
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await page.getByRole('link', { name: 'Team' }).first().click()
    await page.getByRole('link', { name: 'docs', exact: true }).click()
    await page.getByRole('link', { name: 'Share report.pdf' }).click()
    await page.getByRole('heading', { name: 'Share links' }).waitFor()
    expect(await page.getByLabel('Folder', { exact: true }).inputValue()).toBe('team')
    expect(await page.getByLabel('File or directory in the folder').inputValue()).toBe('docs/report.pdf')
    await page.getByLabel('Download limit (optional)').fill('1')
    await page.getByRole('button', { name: 'Create link' }).click()
    const url = await page.getByLabel('The link', { exact: true }).inputValue()
    expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{43}$/)
    await page.getByRole('button', { name: 'Copy link' }).click()
    await page.getByText('Link copied to the clipboard').waitFor()
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(url)
    const first = await fetch(`${url}/download`)
    expect(Buffer.from(await first.arrayBuffer()).equals(report)).toBe(true)
    expect((await fetch(`${url}/download`)).status).toBe(410)

    // A password-protected link to the directory, then revoked from the list.
    await page.getByLabel('File or directory in the folder').fill('docs')
    await page.getByLabel('Download limit (optional)').fill('')
    await page.getByLabel('Password (optional)').fill('a fine password')
    await page.getByRole('button', { name: 'Create link' }).click()
    await page.getByRole('heading', { name: 'Link to docs made' }).waitFor()
    const folderUrl = await page.getByLabel('The link', { exact: true }).inputValue()
    expect((await fetch(folderUrl)).status).toBe(200)
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-ui-share.png'), fullPage: true })
    await page.getByRole('button', { name: 'Revoke the link to team/docs' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('row', { name: /team\/docs Revoked/ }).waitFor()
    expect((await fetch(folderUrl)).status).toBe(410)
    // The used-up link reads "Used up" in words, not only in a colour.
    await page.getByRole('row', { name: /team\/docs\/report\.pdf Used up 1 of 1/ }).waitFor()
  })

  it('tells a device whose user has no account on the team server, plainly, instead of showing a form', async () => {
    const bob = await lab.device('bob')
    await server.enroll(bob, 'bob')
    await bob.start()
    await waitFor(() => /connected to bob/.test(server.log), `bob to reach the server\n${server.log}`, 60_000)
    const other = await context.newPage()
    await other.goto((await bob.ok('ui')).trim())
    await other.getByRole('link', { name: 'Share' }).click()
    await other.getByRole('heading', { name: 'Share links are not available on this device' }).waitFor()
    await other.getByText(/bob@example\.com has no active account on the team server/).waitFor()
    expect(await other.getByRole('button', { name: 'Create link' }).isVisible()).toBe(false)
    await other.screenshot({ path: join(ARTIFACTS, 'desktop-ui-share-no-account.png'), fullPage: true })
    await other.close()
  })

  it('backs up from the Backup screen, browses the snapshot, and restores a file, replacing only after asking', async () => {
    const docs = join(root, 'ada-docs')
    await mkdir(join(docs, 'reports'), { recursive: true })
    await writeFile(join(docs, 'reports/q1.txt'), 'the first quarter\n')
    await writeFile(join(docs, 'big.bin'), randomBytes(3 * 1024 * 1024))
    await writeFile(join(docs, 'scratch.tmp'), 'never backed up')
    await page.goto((await ada.ok('ui')).trim())
    await page.getByRole('link', { name: 'Backup' }).click()
    await page.getByRole('heading', { name: 'Backup', exact: true }).waitFor()
    await page.getByText('none: add a path first').waitFor()
    expect(await page.getByRole('button', { name: 'Back up now' }).isDisabled()).toBe(true)
    await page.getByLabel('Path to back up', { exact: true }).fill(docs)
    await page.getByRole('button', { name: 'Add path to back up' }).click()
    await page.getByRole('button', { name: `Remove ${docs} from the backup` }).waitFor()
    await page.getByLabel('Pattern to exclude', { exact: true }).fill('*.tmp')
    await page.getByRole('button', { name: 'Add pattern to exclude' }).click()
    await page.getByRole('button', { name: 'Remove the exclusion *.tmp' }).waitFor()
    await page.getByLabel('Schedule', { exact: true }).selectOption('1d')
    await page.getByRole('button', { name: 'Save schedule' }).click()
    await page.getByText('Schedule saved').waitFor()
    expect(JSON.parse(await ada.ok('backup', 'show', '--json'))).toMatchObject({ paths: [docs], excludes: ['*.tmp'], schedule: '1d' })

    await page.getByRole('button', { name: 'Back up now' }).click()
    await page.getByText('Backup finished').waitFor()
    await page.getByText(/^Backed up: snapshot/).waitFor()
    // Saving a daily schedule with no run yet may have started one first: the newest is ours.
    const newest = (JSON.parse(await ada.ok('restore', 'list', '--json')) as Array<{ id: string }>).at(-1)!
    await page.getByRole('row', { name: new RegExp(newest.id) }).waitFor()
    await page.getByText(/^Next backup/).waitFor()
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-ui-backup.png'), fullPage: true })

    await page.getByRole('button', { name: `Browse snapshot ${newest.id}` }).click()
    for (const part of [...root.split('/').filter(Boolean), 'ada-docs', 'reports']) await page.getByRole('button', { name: `Open ${part}`, exact: true }).click()
    await page.getByRole('cell', { name: 'q1.txt', exact: true }).waitFor()
    expect(await page.getByRole('cell', { name: 'scratch.tmp' }).count()).toBe(0)
    await page.getByRole('button', { name: 'Restore q1.txt' }).click()
    const target = join(root, 'restored')
    await mkdir(target)
    await page.getByLabel('Restore into directory', { exact: true }).fill(target)
    await page.getByRole('button', { name: 'Restore', exact: true }).click()
    await page.getByText('Restore finished').waitFor()
    await page.getByText(`Restored 1 file (18 B) into ${target}`).waitFor()
    expect(await readFile(join(target, 'q1.txt'), 'utf8')).toBe('the first quarter\n')
    await page.screenshot({ path: join(ARTIFACTS, 'desktop-ui-restore.png'), fullPage: true })

    // Again into the same place: the file is there, so it asks; Cancel writes nothing.
    await writeFile(join(target, 'q1.txt'), 'changed since')
    await page.getByRole('button', { name: 'Restore', exact: true }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
    expect(await readFile(join(target, 'q1.txt'), 'utf8')).toBe('changed since')
    await page.getByRole('button', { name: 'Restore', exact: true }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Replace them' }).click()
    await waitFor(async () => await readFile(join(target, 'q1.txt'), 'utf8') === 'the first quarter\n', 'the confirmed restore to replace q1.txt')
    expect(basename(target)).toBe('restored')
  })

  it('enrolls a new device from the UI with a code, then runs it for real on the same page', async () => {
    const cy = await lab.device('cy')
    // `aerie run` before any `aerie enroll`: only the UI, with its Enroll screen.
    cy.agent = spawn(process.execPath, [BIN, '--home', cy.home, 'run', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], { stdio: ['ignore', 'pipe', 'pipe'] })
    cy.agent.stdout!.on('data', (d: Buffer) => { cy.log += d.toString() })
    cy.agent.stderr!.on('data', (d: Buffer) => { cy.log += d.toString() })
    await waitFor(async () => (await cy.cli('ui')).code === 0, `the unenrolled agent's UI\n${cy.log}`)
    const link = (await cy.ok('ui')).trim()
    const base = link.split('/#')[0]!
    const secret = link.split('#secret=')[1]!
    expect(cy.log).toMatch(/not enrolled yet/)
    // The same guards as an enrolled agent's UI.
    expect(await call(`${base}/api/v1/status`)).toBe(401)
    expect(await call(`${base}/api/v1/status`, { authorization: `Bearer ${secret}`, host: `evil.example:${new URL(base).port}` })).toBe(421)
    expect(await call(`${base}/api/v1/status`, { authorization: `Bearer ${secret}`, origin: 'http://evil.example' })).toBe(403)

    const fresh = await context.newPage()
    fresh.setDefaultTimeout(30_000)
    await fresh.goto(link)
    await fresh.getByRole('heading', { name: 'Welcome to Aerie' }).waitFor()
    await fresh.getByLabel('Enrollment code').fill('not a code')
    await fresh.getByRole('button', { name: 'Enroll this device' }).click()
    await fresh.getByRole('alert').waitFor()
    const wrongCode = (await fresh.getByRole('alert').textContent())!.replace(/^✕ /, '')
    await fresh.screenshot({ path: join(ARTIFACTS, 'desktop-ui-enroll.png'), fullPage: true })
    // A picture: without a QR code it says so; a QR code that is not Aerie's is read into
    // the field and refused as any wrong code is; the real code's QR code enrolls.
    const picture = fresh.getByLabel('Or pick a picture of its QR code')
    await picture.setInputFiles({ name: 'page.png', mimeType: 'image/png', buffer: await fresh.screenshot() })
    await fresh.getByRole('alert').getByText('no QR code found in page.png').waitFor()
    // Dropped onto the page, as from a file manager.
    const shop = (await QRCode.toBuffer('https://shop.example/offer')).toString('base64')
    // A string, as the test is type-checked without the DOM's types.
    const dropped = await fresh.evaluateHandle(`(() => {
      const data = new DataTransfer()
      data.items.add(new File([Uint8Array.fromBase64('${shop}')], 'shop.png', { type: 'image/png' }))
      return data
    })()`)
    await fresh.dispatchEvent('main', 'drop', { dataTransfer: dropped })
    await waitFor(async () => await fresh.getByLabel('Enrollment code').inputValue() === 'https://shop.example/offer', 'the QR code to be read')
    await fresh.getByRole('button', { name: 'Enroll this device' }).click()
    await fresh.getByRole('alert').getByText(wrongCode).waitFor()
    const code = await server.invite('cy@example.com')
    await picture.setInputFiles({ name: 'invite.png', mimeType: 'image/png', buffer: await QRCode.toBuffer(code) })
    await waitFor(async () => await fresh.getByLabel('Enrollment code').inputValue() === code, 'the invite\'s QR code to be read')
    await fresh.getByLabel('Name of this device (optional)').fill('cy-laptop')
    await fresh.getByRole('button', { name: 'Enroll this device' }).click()
    await fresh.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await fresh.getByText('cy-laptop', { exact: false }).first().waitFor()
    const status = JSON.parse(await cy.ok('status', '--json')) as { deviceName: string, user: string }
    expect(status).toMatchObject({ deviceName: 'cy-laptop', user: 'cy@example.com' })
    await waitFor(() => /connected to cy-laptop/.test(server.log), `cy to reach the server\n${server.log}`, 60_000)
    expect(new URL(fresh.url()).port).toBe(new URL(base).port)
    await fresh.close()
  })
})
