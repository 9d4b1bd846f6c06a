import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeTotpSecret, totpCode, totpStep } from '../../src/accounts/totp.ts'
import { ARTIFACTS, launchChromium } from './chromium.ts'
import { ADMIN, SETUP_TOKEN, startWebApp } from './harness.ts'
import type { RunningWebApp } from './harness.ts'

// The admin console in a real headless Chromium against the real web app (fake team server behind it).

describe('admin console in a browser', () => {
  let web: RunningWebApp
  let browser: Browser
  let page: Page
  const problems: string[] = []

  beforeAll(async () => {
    web = await startWebApp()
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(10_000)
    // A CSP violation or a script error shows up here; there must be none. (A 401 is expected: the
    // console asks who is signed in, and nobody is, before setup and after signing out.)
    page.on('console', message => { if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text()) })
    page.on('pageerror', err => { problems.push(err.message) })
  })

  afterAll(async () => {
    await browser?.close()
    await web?.[Symbol.asyncDispose]()
  })

  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}server-console-${name}.png`, fullPage: true })

  it('sets up the first admin, turns on TOTP, signs in with it, enrolls and revokes a device, and shows it all in the audit log', async () => {
    // 1. First-admin setup from the setup URL.
    await page.goto(`${web.base}/setup?token=${SETUP_TOKEN}`)
    await page.getByRole('heading', { name: 'Set up this team server' }).waitFor()
    // Keyboard: a new screen puts focus on its heading, and Tab goes on to the first field.
    expect(await page.evaluate("document.activeElement?.tagName + ' ' + document.activeElement?.textContent")).toBe('H1 Set up this team server')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement?.id')).toBe('setup-email')
    await page.getByLabel('Email').fill(ADMIN.email)
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
    await page.getByLabel('Password again').fill(ADMIN.password)
    await shot('setup')
    await page.getByRole('button', { name: 'Create administrator' }).click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/')
    await page.getByText('Dedupe ratio').waitFor()
    expect(await page.getByText('2.00 ×').count()).toBe(1)
    await shot('dashboard')

    // 2. Turn on two-step sign-in, computing the code from the secret shown.
    await page.getByRole('link', { name: 'Account' }).click()
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click()
    const secret = (await page.locator('#totp-secret').textContent())!.trim()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(await page.getByRole('img', { name: 'QR code for your authenticator app' }).evaluate((img: { naturalWidth: number }) => img.naturalWidth)).toBeGreaterThan(0)
    const key = decodeTotpSecret(secret)!
    const now = totpStep(new Date())
    await page.getByLabel('Code from the app').fill(totpCode(key, now))
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click()
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor()
    expect(await page.locator('#recovery-codes li').count()).toBe(10)
    await shot('recovery-codes')
    await page.getByRole('button', { name: 'I have saved them' }).click()
    await page.getByText('signing in needs your password and a code').waitFor()

    // 3. Sign out, sign in with password and then a fresh code (the next step's: the one used to confirm is spent).
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.getByLabel('Email').fill(ADMIN.email)
    await page.getByLabel('Password').fill(ADMIN.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor()
    await shot('login-code')
    await page.getByLabel('Code').fill(totpCode(key, now + 1))
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()

    // 4. An enrollment code, as text and as a QR code.
    await page.getByRole('link', { name: 'Devices' }).click()
    await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor()
    await page.getByLabel('Device name (optional)').fill('Ada desktop')
    await page.getByRole('button', { name: 'Create enrollment code' }).click()
    const code = page.locator('#enrollment-code')
    await code.waitFor()
    expect(await code.textContent()).toBe(web.api.issued.at(-1)!.code)
    expect(web.api.issued.at(-1)).toMatchObject({ user: ADMIN.email, deviceName: 'Ada desktop', ttlMs: 24 * 3600_000 })
    const qr = page.getByRole('img', { name: 'QR code of the enrollment code' })
    expect(await qr.isVisible()).toBe(true)
    expect(await qr.evaluate((img: { naturalWidth: number }) => img.naturalWidth)).toBeGreaterThan(0)
    // Online and offline are told by words and icons, not colour alone.
    expect(await page.locator('tr[data-device="adalaptop0000001"]').textContent()).toContain('Online')
    expect(await page.locator('tr[data-device="bobdesktop000002"]').textContent()).toMatch(/Offline.*last seen/)
    await shot('devices-enrollment-code')

    // 5. Revoke a device, after confirming in a dialog (cancel first: nothing happens).
    await page.getByRole('button', { name: "Revoke Bob's desktop" }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
    expect(web.api.revoked).toEqual([])
    await page.getByRole('button', { name: "Revoke Bob's desktop" }).click()
    await shot('devices-revoke-confirm')
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke device' }).click()
    await page.locator('tr[data-device="bobdesktop000002"] .status-bad').getByText('Revoked').waitFor()
    expect(web.api.revoked).toEqual(['bobdesktop000002'])

    // 6. Folders and members: Ada's laptop joins Bob's folder as a viewer.
    await page.getByRole('link', { name: 'Folders' }).click()
    await page.getByRole('heading', { name: 'Team docs' }).waitFor()
    const bobFolder = page.getByRole('region', { name: 'Bob private' })
    await bobFolder.getByLabel('Device').selectOption('adalaptop0000001')
    await bobFolder.getByLabel('Role', { exact: true }).selectOption('viewer')
    await bobFolder.getByRole('button', { name: 'Add member' }).click()
    await page.getByRole('combobox', { name: "Role of Ada's laptop (ada@example.org) in Bob private" }).waitFor()
    expect(web.api.memberChanges).toEqual([{ folder: 'bob-private', deviceId: 'adalaptop0000001', role: 'viewer' }])
    // Every device of a user, by e-mail.
    await bobFolder.getByLabel('User email').fill('carol@example.org')
    await bobFolder.getByLabel('Role for that user').selectOption('editor')
    await bobFolder.getByRole('button', { name: 'Share with user' }).click()
    await page.getByRole('combobox', { name: 'Role of the devices of carol@example.org in Bob private' }).waitFor()
    expect(web.api.memberChanges.at(-1)).toEqual({ folder: 'bob-private', deviceId: 'user:carol@example.org', role: 'editor' })
    await shot('folders')

    // 7. The audit log shows each step, and its chain verifies.
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByRole('heading', { name: 'Entries, newest first' }).waitFor()
    // The heading is drawn before the entries arrive: wait for them.
    await page.locator('#audit-entries tbody tr').first().waitFor()
    const log = await page.locator('#audit-entries').textContent()
    for (const action of ['setup.completed', 'login.succeeded', 'totp.enabled', 'logout', 'enrollment_code.created', 'device.revoked', 'folder.member_set']) {
      expect(log, action).toContain(action)
    }
    await page.getByRole('button', { name: 'Verify chain' }).click()
    await page.getByText(/Chain intact: all \d+ entries verified/).waitFor()
    await page.getByLabel('Action').fill('device.revoked')
    await page.getByRole('button', { name: 'Apply filters' }).click()
    // (waitForFunction would evaluate a string, which the console's CSP rightly forbids.)
    await expect.poll(() => page.locator('#audit-entries tbody tr').count(), { timeout: 10_000 }).toBe(1)
    expect(await page.locator('#audit-entries tbody tr').textContent()).toContain('device.revoked')
    await shot('audit')

    // 8. Users page.
    await page.getByRole('link', { name: 'Users' }).click()
    await page.getByRole('heading', { name: 'Accounts' }).waitFor()
    await shot('users')

    expect(problems).toEqual([])
  })

  it('stays usable at 200% zoom: nothing needs sideways scrolling but wide tables', async () => {
    const narrow = await browser.newPage({ viewport: { width: 640, height: 900 } })
    try {
      await narrow.goto(`${web.base}/#/login`)
      await narrow.getByRole('heading', { name: 'Sign in' }).waitFor()
      // 1280 px at 200% is a 640 px layout viewport.
      expect(await narrow.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(640)
    } finally {
      await narrow.close()
    }
  })
})
