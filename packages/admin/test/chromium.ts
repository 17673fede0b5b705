import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

// Debian's chromium by default; CI images that ship Chrome elsewhere point REDKIT_CHROMIUM at it.
export const CHROMIUM = process.env.REDKIT_CHROMIUM ?? '/usr/bin/chromium'

interface Teardown { teardown: (fn: () => unknown) => void }

/** A headless Chromium with a throw-away profile, closed at teardown. */
export async function launch (t: Teardown): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'redkit-admin-chromium-'))
  t.teardown(() => rmSync(profile, { recursive: true, force: true }))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1360, height: 980 }
  })
  t.teardown(async () => await context.close())
  return context
}
