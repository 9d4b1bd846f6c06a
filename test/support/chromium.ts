import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

/** Where browser tests leave their screenshots (the repository's test-artifacts/, gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

// Same flags as the team server's console tests (apps/server/test/web/chromium.ts): apps do
// not import each other's tests, so the desktop UI's tests launch it from here.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** The system's headless Chromium (never a downloaded one), with test-artifacts/ ready for screenshots. */
export async function launchChromium (): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}
