import type { Test } from 'tap'
import { Browser, type DemoInstance } from './instances.js'

const json = { 'content-type': 'application/json' }

async function login (browser: Browser, base: string, username: string): Promise<void> {
  const res = await browser.fetch(`${base}/login`, { method: 'POST', headers: json, body: JSON.stringify({ username }) })
  if (res.status !== 200) throw new Error(`login as ${username} answered ${res.status}: ${await res.text()}`)
}

async function me (browser: Browser, base: string): Promise<{ userId: string | null, views: number }> {
  const res = await browser.fetch(`${base}/me`)
  return await res.json() as { userId: string | null, views: number }
}

/**
 * What a user of several instances behind a load balancer relies on, checked
 * over real HTTP against separate demo processes that share one Redis.
 */
export function integrationSuite (t: Test, getDemos: () => DemoInstance[], tag: string): void {
  const urls = (): string[] => getDemos().map((d) => d.url)

  t.test('a session started on one instance is used on the others', async (t) => {
    const [a, b, c] = urls() as [string, string, string]
    const browser = new Browser()
    await login(browser, a, `alice-${tag}`)
    t.match(await me(browser, b), { userId: `alice-${tag}`, views: 1 })
    t.match(await me(browser, c), { userId: `alice-${tag}`, views: 2 })
    t.match(await me(browser, a), { userId: `alice-${tag}`, views: 3 })

    const old = browser.cookies.get('sessionId')
    await login(browser, b, `alice-${tag}`)
    const stale = new Browser()
    stale.cookies.set('sessionId', old!)
    t.match(await me(stale, c), { userId: null }, 'login regenerates the id; the old one is dead on every instance')

    await browser.fetch(`${c}/logout`, { method: 'POST' })
    t.match(await me(browser, a), { userId: null }, 'logout on one instance is seen by another')
  })

  t.test('logout everywhere', async (t) => {
    const [a, b, c] = urls() as [string, string, string]
    const user = `bob-${tag}`
    const phone = new Browser()
    const laptop = new Browser()
    const tablet = new Browser()
    await login(phone, a, user)
    await login(tablet, b, user)
    await login(laptop, c, user)
    const res = await laptop.fetch(`${a}/logout-everywhere`, { method: 'POST' })
    t.same(await res.json(), { revoked: 2 })
    t.match(await me(phone, b), { userId: null }, 'the phone is logged out')
    t.match(await me(tablet, c), { userId: null }, 'the tablet is logged out')
    t.match(await me(laptop, b), { userId: user }, 'the session that asked stays')
  })

  t.test('a bridge token is redeemed exactly once under 100 concurrent tries', async (t) => {
    const all = urls()
    const browser = new Browser()
    await login(browser, all[0]!, `carol-${tag}`)
    const issued = await (await browser.fetch(`${all[1]}/bridge`, { method: 'POST' })).json() as { token: string }
    t.match(issued.token, /^[A-Za-z0-9_-]{43}$/, '256-bit base64url token')
    const statuses = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const res = await fetch(`${all[i % all.length]}/bridge/${issued.token}`)
      const body = await res.json() as { userId?: string }
      return { status: res.status, userId: body.userId }
    }))
    const won = statuses.filter((s) => s.status === 200)
    t.equal(won.length, 1, 'exactly one redemption succeeds')
    t.equal(won[0]?.userId, `carol-${tag}`)
    t.equal(statuses.filter((s) => s.status === 410).length, 99, 'the others get 410')
    const malformed = await fetch(`${all[0]}/bridge/${encodeURIComponent('*')}`)
    t.equal(malformed.status, 400, 'a malformed token is refused')
    t.match(await malformed.json(), { code: 'FST_REDKIT_SESSION_INVALID_TOKEN' })
  })

  t.test('locks are exclusive across instances and fencing tokens rise', async (t) => {
    const all = urls()
    const job = `report-${tag}`
    const operator = new Browser()
    await login(operator, all[0]!, `olga-${tag}`)
    const runs = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const res = await operator.fetch(`${all[i % all.length]}/jobs/${job}/run?ms=40`, { method: 'POST' })
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() as { token: number, startedAt: number, finishedAt: number } }
    }))
    const done = runs.filter((r) => r.status === 200).map((r) => r.body).sort((x, y) => x.startedAt - y.startedAt)
    const refused = runs.filter((r) => r.status === 409)
    t.ok(done.length >= 1, `${done.length} runs, ${refused.length} refused`)
    t.equal(done.length + refused.length, 30, 'every request either ran or got 409')
    t.ok(refused.every((r) => r.retryAfter !== null), 'refusals carry Retry-After')
    for (let i = 1; i < done.length; i++) {
      t.ok(done[i]!.startedAt >= done[i - 1]!.finishedAt, 'runs do not overlap')
    }
    const tokens: number[] = []
    for (let i = 0; i < 6; i++) {
      // The lock is released before the response is written, so a client that
      // sends its next request on receipt, to any instance, never meets it.
      const res = await operator.fetch(`${all[i % all.length]}/jobs/${job}/run?ms=1`, { method: 'POST' })
      t.equal(res.status, 200, `request ${i + 1} right after the previous response`)
      tokens.push((await res.json() as { token: number }).token)
    }
    t.ok(tokens.every((token, i) => i === 0 || token > tokens[i - 1]!), `tokens strictly rise: ${tokens.join(' < ')}`)
    t.ok(tokens[0]! > Math.max(...done.map((d) => d.token)), 'and stay above earlier holders')
  })

  t.test('SSE receives a notify sent to another instance', async (t) => {
    const [a, b] = urls() as [string, string]
    const controller = new AbortController()
    const res = await fetch(`${a}/events`, { signal: controller.signal, headers: { accept: 'text/event-stream' } })
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /text\/event-stream/)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const message = `hello from B ${tag}`
    const sender = new Browser()
    await login(sender, b, `sam-${tag}`)
    // Publish after the subscription is live; keep publishing until it arrives.
    const publisher = setInterval(() => {
      sender.fetch(`${b}/notify`, { method: 'POST', headers: json, body: JSON.stringify({ message }) }).catch(() => {})
    }, 200)
    try {
      const deadline = Date.now() + 10_000
      while (!text.includes(message) && Date.now() < deadline) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
      }
    } finally {
      clearInterval(publisher)
      controller.abort()
    }
    t.match(text, new RegExp(`data: .*${message}`), 'the event arrived over SSE')
  })

  t.test('the login rate limit is exact across instances', async (t) => {
    const all = urls()
    const username = `dave-${tag}`
    const statuses = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const res = await fetch(`${all[i % all.length]}/login`, { method: 'POST', headers: json, body: JSON.stringify({ username }) })
      return res.status
    }))
    t.equal(statuses.filter((s) => s === 200).length, 5, 'exactly 5 logins pass')
    t.equal(statuses.filter((s) => s === 429).length, 25, 'the rest get 429')
  })

  t.test('cache invalidation is seen everywhere', async (t) => {
    const all = urls()
    const etags: string[] = []
    for (const base of all) {
      const res = await fetch(`${base}/api/items`)
      t.equal(res.status, 200)
      etags.push(res.headers.get('etag') ?? '')
    }
    t.ok(etags[0] !== '', 'responses carry an ETag')
    const notModified = await fetch(`${all[1]}/api/items`, { headers: { 'if-none-match': etags[0]! } })
    t.equal(notModified.status, 304, 'a matching If-None-Match gets 304 on another instance')

    const id = `x${tag}`
    const editor = new Browser()
    await login(editor, all[1]!, `ed-${tag}`)
    const put = await editor.fetch(`${all[1]}/api/items/${id}`, { method: 'PUT', headers: json, body: JSON.stringify({ name: 'Saucer', price: 3 }) })
    t.equal(put.status, 200)
    for (const base of all) {
      const res = await fetch(`${base}/api/items`, { headers: { 'if-none-match': etags[0]! } })
      t.equal(res.status, 200, `${base} no longer answers 304`)
      const body = await res.json() as { items: Array<{ id: string }> }
      t.ok(body.items.some((item) => item.id === id), `${base} sees the new item`)
    }
  })
}
