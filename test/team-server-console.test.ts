import { mkdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeTotpSecret, totpCode, totpStep } from '../apps/server/src/accounts/totp.ts'
import { Lab, waitFor } from './support/agents.ts'
import { ServerProcess } from './support/team-server.ts'
import type { Browser, Page } from 'playwright-core'
import type { Device } from './support/agents.ts'

// The whole path an admin takes, against a real aerie-server process and a real agent, in a
// real headless Chromium: setup, two-step sign-in, a device enrolled from a code the console
// shows, revoked from the console and dropped by the server, every step in the audit log.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const ADMIN = { email: 'admin@example.com', password: 'a long admin password' }

describe('team server console, end to end', () => {
  const lab = new Lab()
  let root: string
  let server: ServerProcess
  let browser: Browser
  let page: Page
  let base: string
  let dave: Device

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    root = await mkdtemp(join(tmpdir(), 'aerie-console-'))
    server = new ServerProcess(join(root, 'server'))
    base = (await server.start()).webUrl!
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(15_000)
  })

  afterAll(async () => {
    await browser?.close()
    await lab.stopAll()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  })

  it('sets up the admin with TOTP, enrolls a device from the console\'s code, revokes it, and audits each step', async () => {
    const token = await server.setupToken()
    expect(server.log).toContain(`/setup?token=${token}`)
    await page.goto(`${base}/setup?token=${token}`)
    await page.getByLabel('Email').fill(ADMIN.email)
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
    await page.getByLabel('Password again').fill(ADMIN.password)
    await page.getByRole('button', { name: 'Create administrator' }).click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()

    await page.getByRole('link', { name: 'Account' }).click()
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click()
    const key = decodeTotpSecret((await page.locator('#totp-secret').textContent())!.trim())!
    const step = totpStep(new Date())
    await page.getByLabel('Code from the app').fill(totpCode(key, step))
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click()
    await page.getByRole('button', { name: 'I have saved them' }).click()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Email').fill(ADMIN.email)
    await page.getByLabel('Password').fill(ADMIN.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByLabel('Code').fill(totpCode(key, step + 1))
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()

    // The code the console shows enrolls a real device against the real server.
    await page.getByRole('link', { name: 'Devices' }).click()
    await page.getByLabel('Device name (optional)').fill('dave')
    await page.getByRole('button', { name: 'Create enrollment code' }).click()
    const code = (await page.locator('#enrollment-code').textContent())!.trim()
    dave = await lab.device('dave')
    await dave.ok('enroll', code, '--name', 'dave', '--listen', '/ip4/127.0.0.1/tcp/0')
    await dave.start()
    const daveId = (await dave.status()).deviceId
    await waitFor(async () => {
      await page.reload()
      return (await page.locator(`tr[data-device="${daveId}"]`).textContent({ timeout: 2_000 }).catch(() => ''))?.includes('Online') === true
    }, `dave to show online in the console\n${server.log}`)
    await page.screenshot({ path: `${ARTIFACTS}server-e2e-devices.png`, fullPage: true })

    // Revoked from the console: the server drops it, and dave learns it is revoked.
    await page.getByRole('button', { name: 'Revoke dave' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke device' }).click()
    await page.locator(`tr[data-device="${daveId}"] .status-bad`).getByText('Revoked').waitFor()
    await waitFor(async () => (await dave.status() as unknown as { revoked: boolean }).revoked, `dave to be told it is revoked\n${dave.log}`)

    await page.getByRole('link', { name: 'Audit log' }).click()
    await page.getByRole('heading', { name: 'Entries, newest first' }).waitFor()
    // The entries load after the heading shows: wait for them (bounded by the poll's timeout).
    await expect.poll(async () => await page.locator('#audit-entries').textContent(), { timeout: 15_000 }).toContain('setup.completed')
    const log = await page.locator('#audit-entries').textContent()
    for (const action of ['setup.completed', 'totp.enabled', 'login.succeeded', 'enrollment_code.created', 'device.enrolled', 'device.revoked']) {
      expect(log, action).toContain(action)
    }
    await page.screenshot({ path: `${ARTIFACTS}server-e2e-audit.png`, fullPage: true })
    expect((await server.cli(['audit', 'verify'])).code).toBe(0)
  })

  it('detects an audit entry edited in the database', async () => {
    await server.stop()
    const db = new DatabaseSync(join(server.dataDir, 'server.db'))
    try {
      // Whoever edits the file directly gets past the append-only triggers; the hash chain still tells.
      db.exec('DROP TRIGGER audit_log_no_update')
      db.exec("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
    } finally {
      db.close()
    }
    const result = await server.cli(['audit', 'verify'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/AUDIT LOG DAMAGED at entry 2/)
  })
})
