import { existsSync, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { CHROMIUM, launch } from './chromium.js'
import { AUTH, build, TOKEN } from './helpers.js'

const ARTIFACT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../artifacts/admin-dashboard.png')

// Without a browser the test is skipped on a developer's machine, but fails in CI
// (CI set), where the browser is part of the setup.
const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase())
const SKIP = process.env.REDKIT_SKIP_BROWSER === '1' ? 'REDKIT_SKIP_BROWSER=1' : IN_CI ? null : 'CI is not set'

if (!existsSync(CHROMIUM)) {
  if (SKIP !== null) {
    t.test('dashboard in headless Chromium', {
      skip: `no browser at ${CHROMIUM} (install chromium, or set REDKIT_CHROMIUM to a Chromium or Chrome binary) and ${SKIP}`
    }, async () => {})
  } else {
    t.fail(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), or set REDKIT_CHROMIUM to a Chromium or Chrome binary`)
  }
} else {
  t.test('the dashboard signs in, lists a session made by another request, revokes it', async (t) => {
    const server = await startRedis()
    t.teardown(server.stop)
    const { app } = await build(t, { url: server.url, keyPrefix: uniquePrefix('admin-ui'), env: {} })
    const base = await app.listen({ host: '127.0.0.1', port: 0 })

    // Sessions made by ordinary HTTP requests from other clients.
    const made: string[] = []
    for (const [user, agent] of [['eve', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0'], ['frank', 'curl/8.5.0'], ['eve', 'EveMobile/2.1 (iPhone)']]) {
      const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': agent! }, body: JSON.stringify({ user }) })
      made.push(((await res.json()) as { sessionId: string }).sessionId)
    }
    const target = made[0]!
    const lock = await app.locks.acquire('nightly-report', { ttl: 60_000 })
    t.teardown(async () => { await lock.release().catch(() => {}) })
    const off = await app.pubsub.subscribe('orders', () => {})
    t.teardown(async () => { await off() })
    await app.cache.get('warmup')

    const context = await launch(t)
    const page = context.pages()[0] ?? await context.newPage()
    const urls: string[] = []
    const bearer: string[] = []
    page.on('request', (request) => {
      urls.push(request.url())
      const header = request.headers().authorization
      if (header !== undefined) bearer.push(header)
    })
    const consoleErrors: string[] = []
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })

    await page.goto(`${base}/admin/`)
    await page.locator('#token').waitFor({ state: 'visible', timeout: 10_000 })
    t.ok(await page.locator('#app').isHidden(), 'no data before signing in')
    t.equal(await page.locator('#login-error').textContent(), '', 'a fresh page shows no error before a token is typed')

    await page.fill('#token', 'wrong-token-wrong-token')
    await page.click('#login-form button[type=submit]')
    await page.locator('#login-error', { hasText: 'refused' }).waitFor({ timeout: 10_000 })
    t.pass('a wrong token is refused')

    await page.fill('#token', TOKEN)
    await page.click('#login-form button[type=submit]')
    const row = page.locator(`tr[data-session-row="${target}"]`)
    await row.waitFor({ state: 'visible', timeout: 10_000 })
    t.match(await row.textContent(), /eve/, 'the session shows its user')
    t.match(await row.textContent(), /Firefox/, 'and its user agent')
    t.equal(await page.evaluate('sessionStorage.getItem("redkitAdminToken")'), TOKEN, 'the token stays in sessionStorage')

    const button = row.locator('button[data-session]')
    await button.click()
    await page.locator(`tr[data-session-row="${target}"] button`, { hasText: 'Confirm' }).waitFor({ timeout: 5000 })
    await button.click()
    await row.waitFor({ state: 'detached', timeout: 10_000 })
    t.pass('the row is gone after revoking')
    const gone = await app.inject({ url: `/admin/sessions/${target}`, headers: AUTH })
    t.equal(gone.statusCode, 404, 'the session is revoked on the server')
    for (const id of made.slice(1)) t.equal((await app.inject({ url: `/admin/sessions/${id}`, headers: AUTH })).statusCode, 200, 'others remain')

    // A POST from the page itself passes the cross-site checks.
    await page.locator('section[data-package="session"] button', { hasText: 'Clean index' }).click()
    await page.locator('#status-line', { hasText: 'Cleanup:' }).waitFor({ timeout: 10_000 })
    t.pass('the dashboard\'s own POST is accepted')

    // Actions of other panels: a query parameter (cache tag) and a path parameter (rate-limit key) from a text field.
    const cache = page.locator('section[data-package="cache"]')
    await cache.locator('input').fill('team:1')
    await cache.locator('button', { hasText: 'Invalidate' }).click()
    await page.locator('#status-line', { hasText: 'Invalidated 0 cache entries tagged team:1.' }).waitFor({ timeout: 10_000 })
    const limits = page.locator('section[data-package="rate-limit"]')
    await limits.locator('input').first().fill('10.0.0.7')
    await limits.locator('button', { hasText: 'Look up' }).click()
    await page.locator('#status-line', { hasText: '10.0.0.7: allowed true' }).waitFor({ timeout: 10_000 })
    t.pass('panel actions call their routes')

    await page.locator('#redis table').waitFor({ timeout: 10_000 })
    await page.locator('section[data-package="lock"] table').waitFor({ timeout: 10_000 })
    mkdirSync(dirname(ARTIFACT), { recursive: true })
    await page.screenshot({ path: ARTIFACT, fullPage: true })
    t.ok(existsSync(ARTIFACT), `screenshot saved to ${ARTIFACT}`)

    // A token kept from earlier that the server now refuses: the page says so.
    await page.evaluate('sessionStorage.setItem("redkitAdminToken", "revoked-token-revoked-token")')
    await page.reload()
    await page.locator('#login-error', { hasText: 'Sign in again' }).waitFor({ timeout: 10_000 })
    t.pass('a stored token that is refused is reported')

    t.notOk(urls.some((u) => u.includes(TOKEN)), 'the token never appears in a URL')
    t.ok(bearer.includes(`Bearer ${TOKEN}`), 'the token travels as a Bearer header')
    t.same(consoleErrors.filter((e) => !e.includes('401')), [], 'no script or CSP errors')
  })
}
