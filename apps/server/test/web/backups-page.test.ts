import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { chunkId } from '@aerie/core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupAdmin } from '../../src/backup/backup-admin.ts'
import { runScrub } from '../../src/backup/scrub.ts'
import { collectGarbage } from '../../src/backup/chunk-gc.ts'
import { ADA_LAPTOP as ADA, backedUpTree, BOB_DESKTOP as BOB } from '../backup/snapshot-fixture.ts'
import type { BackedUpTree } from '../backup/snapshot-fixture.ts'
import { ARTIFACTS, launchChromium } from './chromium.ts'
import { setUpAdmin, startWebApp } from './harness.ts'
import type { Client, RunningWebApp } from './harness.ts'

// The console's Backups page in a real headless Chromium, against the real web app over a real
// pack store holding a real backup: browse a snapshot and download a file, let another device
// restore it and revoke that, retention and legal holds, and a scrub that finds damage.

const OLDER = '0a0a0a0a0a0a0a0a'
const NEWER = '1b1b1b1b1b1b1b1b'
const BOBS = '2c2c2c2c2c2c2c2c'

describe('the Backups page in a browser', () => {
  let web: RunningWebApp
  let tree: BackedUpTree
  let browser: Browser
  let admin: Client
  let context: BrowserContext
  let page: Page
  const problems: string[] = []
  // The store's disk as the page is told of it: 2 TB with plenty free unless a test says otherwise.
  const disk = { free: 1.5e12, total: 2e12, kept: 2e10 }
  let fullSince: Date | undefined
  let scrubHeld = Promise.resolve()
  /** Holds the next scrubs once they have read every chunk back; returns the release. */
  const hold = (): () => void => {
    let release!: () => void
    scrubHeld = new Promise(resolve => { release = resolve })
    return release
  }

  beforeAll(async () => {
    tree = await backedUpTree()
    web = await startWebApp()
    const snapshots = web.temp.metadata.backups
    web.api.backup = backupAdmin({
      snapshots,
      audit: web.audit,
      log: () => {},
      store: tree.store,
      // A scrub waits at `scrubHeld` once it has read every chunk back, so that its progress can be seen.
      scrub: async (onProgress) => await runScrub({
        store: { ...tree.store, verify: async (options) => { const found = await tree.store.verify(options); await scrubHeld; return found } },
        snapshots,
        centralFiles: () => []
      }, { onProgress }),
      // No grace: what no snapshot names is swept at once (the server's default is a day).
      collect: async () => await collectGarbage({ store: tree.store, snapshots, centralFiles: () => [], openRoots: () => [], graceMs: 0 }),
      disk: async () => ({ ...disk }),
      fullSince: () => fullSince
    })
    admin = await setUpAdmin(web.base)
    // An hour apart: OLDER, NEWER, then Bob's.
    for (const [i, [id, device]] of ([[OLDER, ADA], [NEWER, ADA], [BOBS, BOB]] as const).entries()) tree.record(snapshots, id, device, new Date(Date.now() - (3 - i) * 3_600_000))
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
    const [name, value] = admin.cookie!.split('=') as [string, string]
    await context.addCookies([{ name, value, url: web.base }])
    page = await context.newPage()
    page.setDefaultTimeout(10_000)
    // A CSP violation or a script error shows up here; there must be none.
    page.on('console', message => { if (message.type() === 'error') problems.push(message.text()) })
    page.on('pageerror', err => { problems.push(err.message) })
  })

  afterAll(async () => {
    await browser?.close()
    await web?.[Symbol.asyncDispose]()
    await tree?.[Symbol.asyncDispose]()
  })

  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}server-console-${name}.png`, fullPage: true })
  const snapshotRows = () => page.locator('#snapshot-list tbody tr').evaluateAll(trs => trs.map(tr => tr.getAttribute('data-snapshot')))
  const confirm = async (action: string) => { await page.getByRole('dialog').getByRole('button', { name: action }).click() }

  it('lists snapshots newest first, filters them by device, browses one into a subdirectory and downloads a file byte for byte', async () => {
    await page.goto(`${web.base}/#/dashboard`)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backups' }).click()
    await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor()
    expect(await snapshotRows()).toEqual([BOBS, NEWER, OLDER])
    expect(await page.locator(`tr[data-snapshot="${NEWER}"]`).textContent()).toMatch(/Ada's laptop.*ada@example\.org.*6\.3 MB/)
    await page.locator('#snapshot-device').selectOption(ADA.deviceId)
    await page.locator(`#snapshot-list tr[data-snapshot="${BOBS}"]`).waitFor({ state: 'detached' })
    expect(await snapshotRows()).toEqual([NEWER, OLDER])

    await page.locator(`tr[data-snapshot="${NEWER}"]`).getByRole('link').click()
    await page.getByRole('heading', { name: "Snapshot of Ada's laptop", level: 1 }).waitFor()
    const top = tree.inSnapshot.split('/')[0]!
    await page.getByRole('link', { name: `${top}/ (directory)` }).click()
    await page.getByRole('heading', { name: `Contents of /${top}` }).waitFor()
    // Down to the backed-up directory, then into a subdirectory of it by a click.
    await page.goto(`${web.base}/#/backups/${NEWER}/${tree.inSnapshot.split('/').map(encodeURIComponent).join('/')}`)
    await page.getByRole('link', { name: 'photos/ (directory)' }).click()
    await page.getByRole('heading', { name: `Contents of /${tree.inSnapshot}/photos` }).waitFor()
    expect(await page.locator('#snapshot-listing tbody tr').evaluateAll(trs => trs.map(tr => tr.getAttribute('data-name')))).toEqual(['2030', 'big.raw'])
    expect(await page.locator('tr[data-name="big.raw"]').textContent()).toMatch(/6\.3 MB.*rw-------/)
    const crumbs = await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link').allTextContents()
    expect(crumbs.slice(1)).toEqual([...tree.inSnapshot.split('/'), 'photos'])

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download big.raw' }).click()])
    expect(download.suggestedFilename()).toBe('big.raw')
    expect((await readFile((await download.path())!)).equals(tree.big)).toBe(true)
    expect([...web.temp.metadata.audit.entries()].filter(e => e.action === 'backup.download').map(e => e.detail.path)).toEqual([`${tree.inSnapshot}/photos/big.raw`])

    // The directory shown, as one tar archive.
    const [archive] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download this directory (.tar)' }).click()])
    expect(archive.suggestedFilename()).toBe('photos.tar')
    const tar = await readFile((await archive.path())!)
    // Its first entry is the directory itself, then what it holds.
    expect(tar.subarray(0, 7).toString()).toBe('photos/')
    expect(tar.includes(tree.big.subarray(0, 4096))).toBe(true)
    await shot('backup-snapshot')
  })

  it('lets another device restore the snapshot, shows the command to run there, and revokes that after asking', async () => {
    await page.getByRole('button', { name: 'Restore to a device…' }).click()
    await page.locator('#grant-device').selectOption(BOB.deviceId)
    await page.locator('#grant-ttl').selectOption('60')
    await page.getByRole('button', { name: 'Allow this device to restore' }).click()
    await page.getByRole('heading', { name: "Bob's desktop may restore this snapshot" }).waitFor()
    expect(await page.locator('#grant-command').textContent()).toBe(`aerie restore ${NEWER} --to DIR`)
    expect(await page.locator('#grant-command-dir').textContent()).toBe(`aerie restore ${NEWER} /${tree.inSnapshot}/photos --to DIR`)
    const [grant] = web.temp.metadata.backups.allRestoreGrants(new Date())
    expect(grant).toMatchObject({ snapshotId: NEWER, deviceId: BOB.deviceId, grantedBy: 'ada@example.org' })
    expect(grant!.expiresAt.getTime() - grant!.grantedAt.getTime()).toBe(60 * 60_000)

    await page.getByRole('link', { name: 'All backups' }).click()
    const row = page.locator(`#grant-list tr[data-grant="${grant!.id}"]`)
    expect(await row.textContent()).toMatch(new RegExp(`Ada's laptop.*Bob's desktop.*aerie restore ${NEWER} --to DIR`))
    await row.getByRole('button', { name: "Revoke Bob's desktop's grant" }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
    expect(web.temp.metadata.backups.allRestoreGrants(new Date())).toHaveLength(1)
    await row.getByRole('button', { name: "Revoke Bob's desktop's grant" }).click()
    await confirm('Revoke grant')
    await row.waitFor({ state: 'detached' })
    expect(await page.locator('#grant-list').textContent()).toMatch(/^None\./)
    expect(web.temp.metadata.backups.allRestoreGrants(new Date())).toEqual([])
  })

  it('puts a user on legal hold, so a retention policy forgets nothing of theirs until the hold is lifted', async () => {
    const holds = page.locator('#hold-form')
    await holds.getByLabel('User (e-mail)').fill('Ada@Example.org')
    await holds.getByLabel('Reason').fill('case 2030-17')
    await holds.getByRole('button', { name: 'Put on hold' }).click()
    await page.locator('#hold-result').getByText('ada@example.org is on legal hold').waitFor()
    // Lists re-render after the result is shown: wait for them rather than read them at once.
    await page.locator('#hold-list tbody').filter({ hasText: /User ada@example\.org.*case 2030-17.*ada@example\.org/ }).waitFor()

    const retention = page.locator('#retention-form')
    await retention.getByLabel('Applies to').selectOption(ADA.deviceId)
    await retention.getByLabel('Last').fill('1')
    await retention.getByRole('button', { name: 'Save policy' }).click()
    await page.locator('#retention-result').getByText("Policy of Ada's laptop saved. No snapshot was forgotten.").waitFor()
    await page.locator(`#retention-list tr[data-scope="${ADA.deviceId}"]`).filter({ hasText: /^Ada's laptop1000/ }).waitFor()
    await page.locator('#retention-no-default').filter({ hasText: /keeps every snapshot/ }).waitFor()
    await page.locator(`#snapshot-list tr[data-snapshot="${OLDER}"]`).filter({ hasText: 'Held' }).waitFor()

    await page.getByRole('button', { name: 'Lift the hold on ada@example.org' }).click()
    await confirm('Lift hold')
    await page.locator('#hold-result').getByText('Hold on ada@example.org lifted. 1 snapshot was forgotten.').waitFor()
    await page.locator(`#snapshot-list tr[data-snapshot="${OLDER}"]`).waitFor({ state: 'detached' })
    expect(await snapshotRows()).toEqual([BOBS, NEWER])
    expect(web.temp.metadata.backups.holds()).toEqual([])

    await page.getByRole('button', { name: "Clear the policy of Ada's laptop" }).click()
    await confirm('Clear policy')
    await page.locator('#retention-result').getByText("Policy of Ada's laptop cleared.").waitFor()
    expect(await page.locator('#retention-list tbody').count()).toBe(0)
    await page.getByRole('button', { name: 'Apply now' }).click()
    await page.locator('#retention-result').getByText('Policies applied. No snapshot was forgotten.').waitFor()
    const actions = [...web.temp.metadata.audit.entries()].map(e => e.action)
    expect(actions).toEqual(expect.arrayContaining(['backup.hold_set', 'backup.retention_set', 'backup.hold_lifted', 'backup.snapshot_forgotten', 'backup.retention_cleared']))
  })

  it('scrubs on demand, busy until done, and shows damage prominently, naming the snapshots and the file', async () => {
    // The scrub is held once it has read every chunk back: busy, and how far it is, until released.
    let release = hold()
    const button = page.locator('#scrub-now')
    expect(await page.locator('#scrub-report').textContent()).toBe('No scrub has run yet.')
    await button.click()
    await page.getByRole('button', { name: 'Scrubbing…' }).waitFor()
    expect(await button.isDisabled()).toBe(true)
    expect(await page.locator('section[aria-busy="true"] #scrub-now').count()).toBe(1)
    await page.locator('#scrub-status').getByText(/^Scrubbing: (\d+) of \1 chunks read back \(100%\)\.$/).waitFor()
    release()
    await page.locator('#scrub-status').getByText('Scrub finished: no damage found.').waitFor()
    expect(await button.isEnabled()).toBe(true)
    expect(await page.locator('#scrub-damaged').textContent()).toContain('None')

    await tree.damage(`${tree.inSnapshot}/photos/big.raw`, 20)
    await button.click()
    await page.locator('#scrub-status').getByText('Scrub finished: 1 damaged chunk found.').waitFor()
    const damage = page.locator('#damage-report')
    expect(await damage.getByRole('heading', { name: 'Damage found' }).isVisible()).toBe(true)
    expect(await damage.locator(`li[data-snapshot="${NEWER}"]`).textContent()).toMatch(new RegExp(`Ada's laptop.*${NEWER}.*1 file.*${tree.inSnapshot}/photos/big\\.raw`))
    expect(await damage.locator(`li[data-snapshot="${BOBS}"] code.wrap`).allTextContents()).toEqual([`${tree.inSnapshot}/photos/big.raw`])
    // Not by colour alone: the words and the icon are there.
    expect(await page.locator('#scrub-damaged').textContent()).toMatch(/✕.*1 chunk/)
    expect(await page.locator(`#snapshot-list tr[data-snapshot="${NEWER}"]`).textContent()).toMatch(/✕.*Damaged/)
    await shot('backups')

    // A scrub the page did not start (the daily one, `aerie-server scrub --now`) shows how far it is, then its report.
    release = hold()
    const daily = web.api.backup!.scrub()
    await page.goto(`${web.base}/#/backups`)
    await page.locator('#scrub-status').getByText(/^Scrubbing: (\d+) of \1 chunks read back \(100%\)\.$/).waitFor()
    release()
    await daily
    await page.locator('#scrub-status').getByText('Scrub finished: 1 damaged chunk found.').waitFor()
    expect(await page.locator('#scrub-damaged').textContent()).toMatch(/✕.*1 chunk/)
    expect(problems).toEqual([])
  })

  it('shows what the store holds and its disk\'s room, warning in words while it runs low and once backups are refused', async () => {
    const stats = await tree.store.stats()
    await page.goto(`${web.base}/#/backups`)
    await page.getByRole('heading', { name: 'Space', level: 2 }).waitFor()
    expect(await page.locator('#store-space').textContent()).toContain(`${stats.chunks.toLocaleString('en-US')} chunks`)
    expect(await page.locator('#store-disk').textContent()).toBe('1.5 TB free of 2.0 TB')

    disk.free = 1.5e11
    await page.reload()
    await page.getByRole('heading', { name: 'Space', level: 2 }).waitFor()
    expect(await page.locator('#store-disk').textContent()).toMatch(/^! Low: 150 GB free of 2\.0 TB\. Backups are refused once only 20\.0 GB is left\.$/)

    disk.free = 1.9e10
    await page.reload()
    await page.getByRole('heading', { name: 'Space', level: 2 }).waitFor()
    expect(await page.locator('#store-disk').textContent()).toMatch(/^✕ Full: 19\.0 GB free of 2\.0 TB\. Backups are refused until space is freed/)

    // Refused for a group that did not fit, with more than the share kept still free.
    disk.free = 1.2e11
    fullSince = new Date()
    await page.reload()
    await page.getByRole('heading', { name: 'Space', level: 2 }).waitFor()
    expect(await page.locator('#store-disk').textContent()).toMatch(/^✕ Full: 120 GB free of 2\.0 TB\. Backups are refused since .* until space is freed/)
    fullSince = undefined
    disk.free = 1.5e12
    expect(problems).toEqual([])
  })

  it('frees space on demand: a chunk no snapshot needs is swept, and the report says how much', async () => {
    const garbage = randomBytes(100_000)
    await tree.store.put(chunkId(garbage), garbage)
    await page.goto(`${web.base}/#/backups`)
    await page.getByRole('heading', { name: 'Space', level: 2 }).waitFor()
    expect(await page.locator('#gc-report').textContent()).toMatch(/No collection since the server started/)
    await page.getByRole('button', { name: 'Free space now' }).click()
    await page.locator('#gc-status').getByText(/Collection finished/).waitFor()
    expect(await page.locator('#gc-freed').textContent()).toMatch(/^1 chunk \(100 KB of data\)/)
    expect(await tree.store.has([chunkId(garbage)])).toEqual([false])
    expect([...web.temp.metadata.audit.entries()].map(e => e.action)).toContain('backup.gc')
    expect(problems).toEqual([])
  })
})
