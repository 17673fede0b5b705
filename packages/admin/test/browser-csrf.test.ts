import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyRequest } from 'fastify'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { CHROMIUM, launch } from './chromium.js'
import { build, TOKEN } from './helpers.js'

/** The set-up the README recommends for people: the admin is whoever's session says so. */
function cookieAuth (request: FastifyRequest): boolean {
  return (request as unknown as { session?: { get: (k: string) => unknown } }).session?.get('userId') === 'root'
}

/** Another web site: a page whose form posts to the admin as soon as it loads. */
async function attacker (t: Test, target: string): Promise<number> {
  const page = `<!doctype html><html><body>
<form method="post" enctype="text/plain" action="${target}/admin/sessions/cleanup"><input name="a" value="b"></form>
<script>document.forms[0].submit()</script></body></html>`
  const server = createServer((request, response) => { response.setHeader('content-type', 'text/html'); response.end(page) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  return (server.address() as AddressInfo).port
}

if (!existsSync(CHROMIUM)) {
  t.test('cross-site forms in headless Chromium', { skip: `${CHROMIUM} is missing` }, async () => {})
} else {
  t.test('in Chromium, with cookie auth: the dashboard works, a form on another site is refused', async (t) => {
    const server = await startRedis()
    t.teardown(server.stop)
    const { app } = await build(t, { url: server.url, keyPrefix: uniquePrefix('admin-csrf-ui'), env: {} }, {
      packages: ['session'], admin: { token: TOKEN, auth: cookieAuth }
    })
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const evilPort = await attacker(t, base)

    const context = await launch(t)
    const page = context.pages()[0] ?? await context.newPage()
    const login = await page.request.post(`${base}/login`, { data: { user: 'root' } })
    t.equal(login.status(), 200, 'the admin has a session cookie')

    await page.goto(`${base}/admin/`)
    await page.locator('section[data-package="session"]').waitFor({ state: 'visible', timeout: 10_000 })
    t.pass('the cookie signs the dashboard in without a token')
    await page.locator('section[data-package="session"] button', { hasText: 'Clean index' }).click()
    await page.locator('#status-line', { hasText: 'Cleanup:' }).waitFor({ timeout: 10_000 })
    t.pass('the dashboard\'s own POST passes with the cookie')

    // 127.0.0.1 on another port: another origin of the same site, so the browser sends the cookie along.
    for (const [name, origin] of [['same-site', `http://127.0.0.1:${evilPort}`], ['cross-site', `http://localhost:${evilPort}`]] as const) {
      await page.goto(`${origin}/`)
      await page.waitForURL(`${base}/admin/sessions/cleanup`, { timeout: 10_000 })
      const body = JSON.parse(await page.locator('body').innerText()) as { statusCode: number, code: string }
      t.equal(body.statusCode, 403, `a ${name} form post is refused`)
      t.equal(body.code, 'FST_REDKIT_ADMIN_CROSS_SITE', name)
    }
  })
}
