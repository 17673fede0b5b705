import { existsSync } from 'node:fs'
import t from 'tap'
import { CHROMIUM, launch } from './chromium.js'
import { build, TOKEN } from './helpers.js'
import { widgets } from './widgets.js'

const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase())
const SKIP = process.env.REDKIT_SKIP_BROWSER === '1' ? 'REDKIT_SKIP_BROWSER=1' : IN_CI ? null : 'CI is not set'

if (!existsSync(CHROMIUM)) {
  if (SKIP !== null) {
    t.test('described panels in headless Chromium', { skip: `no browser at ${CHROMIUM} and ${SKIP}` }, async () => {})
  } else {
    t.fail(`${CHROMIUM} is missing: install chromium, or set REDKIT_CHROMIUM`)
  }
} else {
  t.test('the dashboard renders the panel of a package that described itself', async (t) => {
    const { app } = await build(t, { mode: 'memory', env: {} }, { packages: [], extra: async (app) => { await app.register(widgets) } })
    const spin = (app as unknown as { spin: () => void }).spin
    spin(); spin()
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const context = await launch(t)
    const page = context.pages()[0] ?? await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })

    await page.goto(`${base}/admin/`)
    await page.locator('#token').waitFor({ state: 'visible', timeout: 10_000 })
    await page.fill('#token', TOKEN)
    await page.click('#login-form button[type=submit]')
    const panel = page.locator('section[data-package="widgets"]')
    await panel.locator('table').waitFor({ timeout: 10_000 })
    t.equal(await panel.locator('h2').textContent(), 'Widgets', 'the panel has its title')
    t.match(await panel.locator('.card').textContent(), /Spins\s*2/, 'a value read from the stats')
    const rows = await panel.locator('tbody tr').allTextContents()
    t.same(rows, ['north4', 'south9'], 'a table keyed by the object at its path')
    t.same(consoleErrors.filter((e) => !e.includes('401')), [], 'no script or CSP errors')
  })
}
