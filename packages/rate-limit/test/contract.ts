import { test } from 'tap'
import type { Algorithm, RateLimitDecision } from '../src/index.js'
import { uniquePrefix } from '@redkit/testing'
import { buildApp, keysWithoutTtl, sleep, type Target } from './helpers.js'

/** A seeded generator, so a failing sequence can be replayed. */
function random (seed: number): () => number {
  let s = seed
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
}

type Outcome = Omit<RateLimitDecision, 'limit' | 'degraded' | 'refused'>

/**
 * The sliding window counter by its definition. Sub-windows [s + kW, s + (k+1)W)
 * are anchored at the request that found no state; `prev` and `curr` are the
 * costs accepted in the sub-window before the current one and in the current
 * one. estimate(t) = prev * (W - (t - s)) / W + curr; a request passes iff
 * estimate + cost <= limit. retryAfter and resetAt are found by searching the
 * following milliseconds, not by a formula.
 */
class CounterModel {
  s: number | undefined
  prev = 0
  curr = 0

  /** The state as seen at t, without writing: rolled forward, or empty once both sub-windows are over. */
  at (t: number, window: number): { s: number, prev: number, curr: number } {
    if (this.s === undefined || t - this.s >= 2 * window) return { s: t, prev: 0, curr: 0 }
    if (t - this.s >= window) return { s: this.s + window, prev: this.curr, curr: 0 }
    return { s: this.s, prev: this.prev, curr: this.curr }
  }

  /** estimate(t) * W, an integer, so comparisons are exact. */
  scaled (t: number, window: number): number {
    const { s, prev, curr } = this.at(t, window)
    return prev * (window - (t - s)) + curr * window
  }

  step (now: number, limit: number, window: number, cost: number, consume: boolean): Outcome {
    const fits = (t: number): boolean => this.scaled(t, window) + cost * window <= limit * window
    const allowed = fits(now)
    if (allowed && consume) {
      const state = this.at(now, window)
      this.s = state.s
      this.prev = state.prev
      this.curr = state.curr + cost
    }
    let retryAt = now
    if (!allowed) {
      while (!fits(retryAt)) retryAt++
    }
    let resetAt = now
    while (this.scaled(resetAt, window) > 0) resetAt++
    const remaining = Math.max(0, Math.floor((limit * window - this.scaled(now, window)) / window))
    return { allowed, remaining, resetAt, retryAfter: retryAt - now, now }
  }
}

/**
 * The sliding log by its definition: a request at time t sees every accepted
 * request with time in (t - W, t] and passes if their costs plus its own fit.
 */
class SlidingLogModel {
  log: Array<[number, number]> = []
  step (now: number, limit: number, window: number, cost: number, consume: boolean): Outcome {
    const usedAt = (t: number): number => this.log.filter(([at]) => at > t - window).reduce((sum, [, c]) => sum + c, 0)
    this.log = this.log.filter(([at]) => at > now - window)
    const allowed = usedAt(now) + cost <= limit
    if (allowed && consume) this.log.push([now, cost])
    const newest = this.log.at(-1)
    const resetAt = newest === undefined ? now : newest[0] + window
    let retryAfter = 0
    if (!allowed) {
      const candidates = this.log.map(([at]) => at + window).filter((t) => usedAt(t) + cost <= limit)
      retryAfter = Math.min(...candidates) - now
    }
    return { allowed, remaining: limit - usedAt(now), resetAt, retryAfter, now }
  }
}

/** The token bucket by its definition: capacity `limit`, refilled continuously at limit/window per ms. */
class BucketModel {
  tokens = Number.NaN
  last = 0
  step (now: number, limit: number, window: number, cost: number, consume: boolean): Outcome {
    this.tokens = Number.isNaN(this.tokens) ? limit : Math.min(limit, this.tokens + (now - this.last) * limit / window)
    this.last = now
    const allowed = this.tokens + 1e-6 >= cost
    if (allowed && consume) this.tokens -= cost
    return {
      allowed,
      remaining: Math.floor(this.tokens + 1e-6),
      resetAt: Math.ceil(now + (limit - this.tokens) * window / limit),
      retryAfter: allowed ? 0 : Math.ceil((cost - this.tokens) * window / limit),
      now
    }
  }
}

export function contract (target: Target): void {
  const core = target.core
  const admin = target.admin

  test(`${target.name}: fixed window by its definition, including the window edge`, async (t) => {
    const app = await buildApp(t, core())
    const spec = { limit: 3, window: 800, algorithm: 'fixed' as const }
    const first = await app.limiter.check('fw', spec)
    t.same([first.allowed, first.remaining, first.retryAfter], [true, 2, 0], 'first request opens a window')
    t.ok(Math.abs(first.resetAt - first.now - 800) <= 1, 'the window lasts `window` ms from the first request')
    const second = await app.limiter.check('fw', { ...spec, cost: 2 })
    t.same([second.allowed, second.remaining], [true, 0])
    t.ok(Math.abs(second.resetAt - first.resetAt) <= 1, 'the window does not move')
    const denied = await app.limiter.check('fw', spec)
    t.same([denied.allowed, denied.remaining], [false, 0])
    t.ok(Math.abs(denied.retryAfter - (first.resetAt - denied.now)) <= 1, 'retryAfter is the time to the window end')

    await sleep(first.resetAt - Date.now() - 300)
    t.equal((await app.limiter.check('fw', spec)).allowed, false, 'still refused just before the edge')
    await sleep(first.resetAt - Date.now() + 40)
    const next = await app.limiter.check('fw', spec)
    t.same([next.allowed, next.remaining], [true, 2], 'a new window after the edge')
    t.ok(next.resetAt >= first.resetAt + 800 - 1 + (next.now - first.resetAt), 'the new window starts at this request')
  })

  test(`${target.name}: fixed window: refused requests take nothing, cost is atomic`, async (t) => {
    const app = await buildApp(t, core())
    const spec = { limit: 5, window: 10_000, algorithm: 'fixed' as const }
    t.equal((await app.limiter.check('c', { ...spec, cost: 4 })).remaining, 1)
    const big = await app.limiter.check('c', { ...spec, cost: 2 })
    t.same([big.allowed, big.remaining], [false, 1], 'cost 2 does not fit and takes nothing')
    const small = await app.limiter.check('c', { ...spec, cost: 1 })
    t.same([small.allowed, small.remaining], [true, 0])
  })

  const models = { sliding: CounterModel, 'sliding-log': SlidingLogModel, 'token-bucket': BucketModel }
  const seeds = { sliding: 5, 'sliding-log': 7, 'token-bucket': 11 }
  for (const algorithm of ['sliding', 'sliding-log', 'token-bucket'] as const) {
    test(`${target.name}: ${algorithm} matches its definition over a random sequence`, async (t) => {
      const app = await buildApp(t, core())
      const rand = random(seeds[algorithm])
      const model = new models[algorithm]()
      const limit = 5
      const window = 300
      let allowed = 0
      let denied = 0
      for (let i = 0; i < 40; i++) {
        const cost = 1 + Math.floor(rand() * 3)
        const consume = rand() > 0.15
        const d = consume
          ? await app.limiter.check('seq', { limit, window, algorithm, cost })
          : await app.limiter.peek('seq', { limit, window, algorithm, cost })
        const want = model.step(d.now, limit, window, cost, consume)
        const where = `step ${i} (cost ${cost}, ${consume ? 'check' : 'peek'}, t=${d.now})`
        t.equal(d.allowed, want.allowed, `${where}: allowed`)
        t.equal(d.remaining, want.remaining, `${where}: remaining`)
        const slack = algorithm === 'token-bucket' ? 1 : 0
        t.ok(Math.abs(d.resetAt - want.resetAt) <= slack, `${where}: resetAt ${d.resetAt} vs ${want.resetAt}`)
        t.ok(Math.abs(d.retryAfter - want.retryAfter) <= slack, `${where}: retryAfter ${d.retryAfter} vs ${want.retryAfter}`)
        if (consume) d.allowed ? allowed++ : denied++
        // Now and then a pause longer than two windows, so idle keys start over.
        await sleep(rand() < 0.08 ? 2 * window + 50 : Math.floor(rand() * 90))
      }
      t.ok(allowed > 5 && denied > 5, `the sequence exercised both outcomes (${allowed} allowed, ${denied} denied)`)
    })
  }

  for (const algorithm of ['sliding', 'sliding-log', 'token-bucket'] as const) {
    test(`${target.name}: ${algorithm}: a burst of identical checks in one turn is decided like separate calls, in order`, async (t) => {
      const app = await buildApp(t, core())
      const model = new models[algorithm]()
      const spec = { limit: 5, window: 60_000, algorithm }
      const warm = await app.limiter.check('burst', { ...spec, cost: 2 })
      model.step(warm.now, spec.limit, spec.window, 2, true)
      const before = app.redkit.stats().commands
      const burst = await Promise.all(Array.from({ length: 12 }, async () => await app.limiter.check('burst', spec)))
      if (app.redkit.mode === 'redis') t.equal(app.redkit.stats().commands - before, 1, 'one script call for the whole burst')
      t.same(burst.map((d) => d.allowed), [true, true, true, false, false, false, false, false, false, false, false, false],
        'exactly the remaining 3 pass, the first 3 in arrival order')
      burst.forEach((d, i) => {
        const want = model.step(d.now, spec.limit, spec.window, 1, true)
        const slack = algorithm === 'token-bucket' ? 1 : 0
        t.equal(d.remaining, want.remaining, `request ${i}: remaining`)
        t.ok(Math.abs(d.resetAt - want.resetAt) <= slack, `request ${i}: resetAt ${d.resetAt} vs ${want.resetAt}`)
        t.ok(Math.abs(d.retryAfter - want.retryAfter) <= slack, `request ${i}: retryAfter ${d.retryAfter} vs ${want.retryAfter}`)
      })
      t.equal((await app.limiter.peek('burst', spec)).remaining, 0, 'the burst took what it was allowed, no more')
    })
  }

  test(`${target.name}: sliding counter edges: sub-window roll-over, weighted decay, expiry and re-anchoring`, async (t) => {
    const prefix = uniquePrefix('rl-edge')
    const app = await buildApp(t, core(prefix))
    const spec = { limit: 4, window: 1000, algorithm: 'sliding' as const }
    const a = await app.limiter.check('ctr', { ...spec, cost: 4 })
    t.same([a.allowed, a.remaining, a.resetAt - a.now], [true, 0, 2000],
      'the first request anchors the sub-windows; all of it is gone two windows later')
    const client = admin()
    if (client !== null) {
      const key = `${prefix}rl:{ctr}:w`
      t.equal(await client.type(key), 'hash', 'one hash key holds both sub-windows')
      const ttl = await client.pttl(key)
      t.ok(ttl > 1500 && ttl <= 2000, `TTL is two windows from the sub-window start (${ttl} ms)`)
    }
    const full = await app.limiter.check('ctr', spec)
    t.equal(full.allowed, false)
    t.equal(full.retryAfter, a.now + 1250 - full.now, 'one unit fits once the previous 4 weigh at most 3: a quarter into the next sub-window')
    const two = await app.limiter.peek('ctr', { ...spec, cost: 2 })
    t.equal(two.retryAfter, a.now + 1500 - two.now, 'two units fit halfway into the next sub-window')

    await sleep(a.now + 1060 - Date.now())
    const rolled = await app.limiter.check('ctr', spec)
    const into = rolled.now - a.now - 1000
    t.ok(into >= 0 && into < 250, `in the next sub-window, before a quarter of it (${into} ms)`)
    t.equal(rolled.allowed, false, 'refused after the roll-over: the previous sub-window still weighs (a fixed window would allow it)')
    t.equal(rolled.remaining, Math.floor(4 - 4 * (1000 - into) / 1000))

    await sleep(a.now + 1290 - Date.now())
    const after = await app.limiter.check('ctr', spec)
    const later = after.now - a.now - 1000
    t.ok(later >= 250 && later < 1000, `past a quarter of the sub-window (${later} ms)`)
    t.equal(after.allowed, true, 'allowed once the weighted previous count has decayed enough')
    t.equal(after.remaining, Math.floor(4 - 4 * (1000 - later) / 1000 - 1), 'remaining = floor(limit - estimate)')
    t.equal(after.resetAt, a.now + 3000, 'the new sub-window counts until two windows after its start')

    await sleep(a.now + 3040 - Date.now())
    if (client !== null) t.equal(await client.exists(`${prefix}rl:{ctr}:w`), 0, 'the key expired when both sub-windows were over')
    const fresh = await app.limiter.check('ctr', { ...spec, cost: 4 })
    t.same([fresh.allowed, fresh.remaining, fresh.resetAt - fresh.now], [true, 0, 2000], 'an idle key starts over, anchored at this request')
  })

  test(`${target.name}: sliding log edges: each request leaves the window exactly W after it`, async (t) => {
    const app = await buildApp(t, core())
    const spec = { limit: 3, window: 1000, algorithm: 'sliding-log' as const }
    const a = await app.limiter.check('edge', spec)
    await sleep(400)
    const b = await app.limiter.check('edge', { ...spec, cost: 2 })
    t.equal(b.remaining, 0)
    t.equal(b.resetAt, b.now + 1000, 'resetAt is when the newest request leaves the window')
    const full = await app.limiter.check('edge', spec)
    t.equal(full.allowed, false)
    t.equal(full.retryAfter, a.now + 1000 - full.now, 'one unit frees up when the oldest request leaves')
    const two = await app.limiter.peek('edge', { ...spec, cost: 2 })
    t.equal(two.retryAfter, b.now + 1000 - two.now, 'two units free up when the second request leaves')

    await sleep(a.now + 1000 - Date.now() - 150)
    t.equal((await app.limiter.check('edge', spec)).allowed, false, 'refused just before the oldest leaves')
    await sleep(a.now + 1000 - Date.now() + 40)
    const partial = await app.limiter.check('edge', { ...spec, cost: 2 })
    t.equal(partial.allowed, false, 'only the oldest unit has left: cost 2 is refused (a fixed window would allow it)')
    const one = await app.limiter.check('edge', spec)
    t.same([one.allowed, one.remaining], [true, 0], 'cost 1 fits after the oldest left')
  })

  test(`${target.name}: token bucket edges: refill rate and burst`, async (t) => {
    const app = await buildApp(t, core())
    const spec = { limit: 4, window: 800, algorithm: 'token-bucket' as const }
    const burst = await app.limiter.check('tb', { ...spec, cost: 4 })
    t.same([burst.allowed, burst.remaining, burst.resetAt - burst.now], [true, 0, 800], 'a new bucket is full; empty after the burst')
    const empty = await app.limiter.check('tb', spec)
    t.equal(empty.allowed, false)
    t.equal(empty.retryAfter, burst.now + 200 - empty.now, 'one token every window/limit ms')
    await sleep(burst.now + 200 - Date.now() - 100)
    t.equal((await app.limiter.check('tb', spec)).allowed, false, 'refused before the first token')
    await sleep(burst.now + 200 - Date.now() + 30)
    const refilled = await app.limiter.check('tb', spec)
    t.equal(refilled.allowed, true, 'allowed once a token has been refilled')
    t.equal(refilled.remaining, Math.floor((refilled.now - burst.now) / 200) - 1)
  })

  test(`${target.name}: peek, reset, keys and validation`, async (t) => {
    const app = await buildApp(t, core())
    for (const algorithm of ['fixed', 'sliding', 'sliding-log', 'token-bucket'] as Algorithm[]) {
      const spec = { limit: 2, window: 60_000, algorithm }
      t.equal((await app.limiter.peek('p', spec)).remaining, 2, `${algorithm}: peek on a new key`)
      await app.limiter.check('p', spec)
      t.equal((await app.limiter.peek('p', spec)).remaining, 1, `${algorithm}: peek takes nothing`)
      t.equal((await app.limiter.peek('p', spec)).remaining, 1)
      await app.limiter.check('p', spec)
      t.equal((await app.limiter.check('p', spec)).allowed, false)
      await app.limiter.reset('p')
      t.equal((await app.limiter.check('p', spec)).remaining, 1, `${algorithm}: reset forgets the key`)
    }
    const long1 = 'x'.repeat(500) + 'a'
    const long2 = 'x'.repeat(500) + 'b'
    const spec = { limit: 1, window: 60_000 }
    t.equal((await app.limiter.check(long1, spec)).allowed, true)
    t.equal((await app.limiter.check(long2, spec)).allowed, true, 'long keys are hashed without colliding')
    t.equal((await app.limiter.check(long1, spec)).allowed, false, 'the same long key is the same bucket')
    t.equal((await app.limiter.check('a{b}', spec)).allowed, true)
    t.equal((await app.limiter.check('a_b_', spec)).allowed, true, 'braces do not collide with their replacement')

    await t.rejects(app.limiter.check('', spec), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_KEY' })
    await t.rejects(app.limiter.check('k', { limit: 2, cost: 3 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
    await t.rejects(app.limiter.check('k', { limit: 0 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
    await t.rejects(app.limiter.check('k', { window: 1.5 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
    await t.rejects(app.limiter.check('k', { algorithm: 'leaky' as Algorithm }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
    // A rejected promise, never a synchronous throw: callers chain .catch() on check() and peek().
    await t.rejects(app.limiter.peek('', spec), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_KEY' })
    await t.rejects(app.limiter.peek('k', { limit: 0 }), { code: 'FST_REDKIT_RATE_LIMIT_INVALID_OPTION' })
  })

  test(`${target.name}: store for @fastify/rate-limit, per-route algorithm and counters`, async (t) => {
    const app = await buildApp(t, core(), { fastifyRateLimit: { max: 2, timeWindow: 60_000 } }, {}, (app) => {
      app.get('/a', async () => 'a')
      app.get('/b', { config: { rateLimit: { max: 1, timeWindow: 60_000, algorithm: 'token-bucket' } } }, async () => 'b')
      app.get('/c', { config: { rateLimit: { max: 1, timeWindow: 60_000, algorithm: 'fixed' } } }, async () => 'c')
    })
    const get = async (url: string): Promise<{ status: number, headers: Record<string, unknown> }> => {
      const res = await app.inject({ url })
      return { status: res.statusCode, headers: res.headers }
    }
    const a1 = await get('/a')
    t.equal(a1.status, 200)
    t.equal(a1.headers['x-ratelimit-remaining'], '1')
    t.equal((await get('/a')).status, 200)
    const a3 = await get('/a')
    t.equal(a3.status, 429)
    // The sliding counter frees one of two units once the previous sub-window weighs half: 1.5 windows after the anchor.
    const retry = Number(a3.headers['retry-after'])
    t.ok(retry > 60 && retry <= 90, `Retry-After in seconds (${retry})`)
    t.ok(Number(a1.headers['x-ratelimit-reset']) > 60, 'the limit is fully back two windows after the sub-window start')
    t.equal((await get('/b')).status, 200, 'routes with their own config count apart')
    t.equal((await get('/b')).status, 429)
    t.equal((await get('/c')).status, 200)
    t.equal((await get('/c')).status, 429)
  })

  test(`${target.name}: spoofed X-Forwarded-For without trustProxy is one bucket; an IPv6 /64 is one bucket`, async (t) => {
    const app = await buildApp(t, core(), { fastifyRateLimit: { max: 3, timeWindow: 60_000 } }, {}, (app) => {
      app.get('/', async () => 'ok')
    })
    const spoofed = []
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({ url: '/', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': `198.51.100.${i}` } })
      spoofed.push(res.statusCode)
    }
    t.same(spoofed, [200, 200, 200, 429, 429, 429], 'X-Forwarded-For is ignored without trustProxy')
    const rotating = []
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({ url: '/', remoteAddress: `2001:db8:aa:bb:${i.toString(16)}:${(i * 7919).toString(16)}::${i + 1}` })
      rotating.push(res.statusCode)
    }
    t.same(rotating, [200, 200, 200, 429, 429, 429], 'addresses rotating inside one /64 share a bucket')
    const other = await app.inject({ url: '/', remoteAddress: '2001:db8:aa:bc::1' })
    t.equal(other.statusCode, 200, 'another /64 is another bucket')
  })

  test(`${target.name}: trustProxy makes X-Forwarded-For the client address`, async (t) => {
    const app = await buildApp(t, core(), { fastifyRateLimit: { max: 1, timeWindow: 60_000 } }, { trustProxy: true }, (app) => {
      app.get('/', async () => 'ok')
    })
    const statuses = []
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ url: '/', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': `198.51.100.${i}` } })
      statuses.push(res.statusCode)
    }
    t.same(statuses, [200, 200, 200], 'each forwarded client has its own bucket')
  })

  test(`${target.name}: zero keys without a TTL after the suite`, async (t) => {
    const client = admin()
    if (client === null) {
      t.pass('memory backend: entries expire in the map')
      return
    }
    const missing = await keysWithoutTtl(client, 'redkit-test:rl-')
    t.same(missing, [], 'every key has a TTL')
  })
}
