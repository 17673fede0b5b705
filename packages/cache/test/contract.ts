import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { makeApp, sleep, type AppOptions, type Target } from './helpers.js'
import { Cacheable, CacheInvalidate, type Cache } from '../src/index.js'

/** The behaviour every backend must share. Run by contract-<backend>.test.ts. */
export function contract (t: Test, target: Target): void {
  const app = async (tt: Test, opts: AppOptions = {}): Promise<FastifyInstance> => await makeApp(tt, target, opts)

  t.test('set and get round-trip JSON, keeping Dates', async (t) => {
    const { cache } = await app(t)
    const value = {
      at: new Date('2024-05-06T07:08:09.010Z'),
      list: [1, 'two', null, { nested: new Date(0) }],
      $date: 'a user key that looks like a marker',
      $$odd: true,
      flag: false
    }
    await cache.set('k', value)
    const back = await cache.get<typeof value>('k')
    t.same(back, value)
    t.ok(back?.at instanceof Date)
    t.ok((back?.list[3] as { nested: Date }).nested instanceof Date)
    await cache.set('plain', { a: 1 })
    t.same(await cache.get('plain'), { a: 1 })
    await cache.set('null', null)
    t.equal(await cache.get('null'), null)
    t.equal(await cache.get('missing'), undefined)
  })

  t.test('entries expire after ttl', async (t) => {
    const { cache } = await app(t)
    await cache.set('short', 1, { ttl: 60 })
    t.equal(await cache.get('short'), 1)
    await sleep(150)
    t.equal(await cache.get('short'), undefined)
  })

  t.test('del deletes one entry', async (t) => {
    const { cache } = await app(t)
    await cache.set('a', 1)
    await cache.set('b', 2)
    t.equal(await cache.del('a'), true)
    t.equal(await cache.del('a'), false)
    t.equal(await cache.get('a'), undefined)
    t.equal(await cache.get('b'), 2)
  })

  t.test('wrap runs the loader on a miss only, and once for concurrent callers', async (t) => {
    const { cache } = await app(t)
    let runs = 0
    const loader = async (): Promise<{ n: number }> => {
      runs++
      await sleep(30)
      return { n: runs }
    }
    const results = await Promise.all(Array.from({ length: 20 }, async () => await cache.wrap('w', loader)))
    t.equal(runs, 1)
    t.ok(results.every((r) => r.n === 1))
    t.same(await cache.wrap('w', loader), { n: 1 })
    t.equal(runs, 1)
    const stats = cache.stats().namespaces.default!
    t.equal(stats.loaderRuns, 1)
    t.ok(stats.hits >= 1)
  })

  t.test('a failing loader rejects every waiting caller and caches nothing', async (t) => {
    const { cache } = await app(t)
    let runs = 0
    const boom = async (): Promise<never> => {
      runs++
      await sleep(10)
      throw new Error('db down')
    }
    const outcomes = await Promise.allSettled([cache.wrap('f', boom), cache.wrap('f', boom)])
    t.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).message === 'db down'))
    t.equal(runs, 1)
    t.equal(await cache.wrap('f', () => 'ok'), 'ok')
  })

  t.test('invalidate deletes exactly the tagged entries', async (t) => {
    const { cache } = await app(t)
    await cache.set('a', 1, { tags: ['x'] })
    await cache.set('b', 2, { tags: ['x', 'y'] })
    await cache.set('c', 3, { tags: ['y'] })
    await cache.set('d', 4)
    await cache.wrap('e', () => 5, { tags: ['x'] })
    t.equal(await cache.invalidate({ tags: ['x'] }), 3)
    t.equal(await cache.get('a'), undefined)
    t.equal(await cache.get('b'), undefined)
    t.equal(await cache.get('e'), undefined)
    t.equal(await cache.get('c'), 3)
    t.equal(await cache.get('d'), 4)
    t.equal(await cache.invalidate({ tags: ['x'] }), 0)
    // b, already dropped through x, may be counted again through y: counting it out would mean visiting every entry.
    const again = await cache.invalidate({ tags: ['y', 'nothing'] })
    t.ok(again === 1 || again === 2, `c counted (${again})`)
    t.equal(await cache.get('c'), undefined)
    t.equal(await cache.get('b'), undefined)
  })

  t.test('wrap stats count every caller, including those sharing one load', async (t) => {
    const { cache } = await app(t)
    const loader = async (): Promise<number> => {
      await sleep(30)
      return 1
    }
    const callers = async (key: string, opts = {}): Promise<unknown[]> =>
      await Promise.all(Array.from({ length: 20 }, async () => await cache.wrap(key, loader, opts)))
    await callers('cold')
    t.match(cache.stats().namespaces.default, { misses: 20, hits: 0, loaderRuns: 1 }, '20 misses, one load')
    await callers('cold')
    t.match(cache.stats().namespaces.default, { misses: 20, hits: 20, loaderRuns: 1 }, '20 hits')
    await cache.wrap('stale', loader, { ttl: 50, staleTtl: 60_000 })
    await sleep(120)
    await callers('stale', { ttl: 50, staleTtl: 60_000 })
    t.match(cache.stats().namespaces.default, { misses: 21, hits: 40, staleServes: 20 }, '20 stale serves')
    const failing = async (): Promise<never> => {
      await sleep(10)
      throw new Error('down')
    }
    await Promise.allSettled(Array.from({ length: 5 }, async () => await cache.wrap('fails', failing)))
    t.equal(cache.stats().namespaces.default!.misses, 26, 'callers of a failing load are misses')
  })

  t.test('no entry of an invalidated tag is served once invalidate has resolved', async (t) => {
    const { cache } = await app(t)
    for (let i = 0; i < 300; i++) await cache.set(`k${i}`, i, { tags: ['t', `own${i}`] })
    await cache.set('other', 'kept', { tags: ['u'] })
    t.equal(await cache.get('k5'), 5)
    t.equal(await cache.invalidate({ tags: ['t'] }), 300)
    for (let i = 0; i < 300; i++) {
      if (await cache.get(`k${i}`) !== undefined) t.fail(`k${i} served after invalidate`)
    }
    t.equal(await cache.wrap('k1', () => 'reloaded', { tags: ['t'] }), 'reloaded')
    t.equal(await cache.get('k1'), 'reloaded', 'an entry written after the invalidation is served')
    t.equal(await cache.get('other'), 'kept')
    await cache.set('k2', 'rewritten', { tags: ['own2'] })
    t.equal(await cache.invalidate({ tags: ['t'] }), 1, 'only k1 was filed since')
    t.equal(await cache.get('k2'), 'rewritten', 'an entry rewritten without the tag stays')

    // A load that began before the invalidation may hold data the invalidation was about.
    let release = (): void => {}
    let started = (): void => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    const running = new Promise<void>((resolve) => { started = resolve })
    const slow = cache.wrap('late', async () => {
      started()
      await gate
      return 'before the change'
    }, { tags: ['t'] })
    await running
    await cache.invalidate({ tags: ['t'] })
    release()
    t.equal(await slow, 'before the change', 'the caller still gets its value')
    t.equal(await cache.get('late'), undefined, 'but it is not stored')
    t.equal(await cache.wrap('late', () => 'after', { tags: ['t'] }), 'after')
  })

  t.test("clear('a*') removes only keys that literally start with a*", async (t) => {
    const { cache } = await app(t)
    const other = cache.ns('other')
    for (const key of ['a*x', 'abc', '[a]', 'a*']) await cache.set(key, key)
    await other.set('a*x', 'other namespace')
    t.equal(await cache.clear('a*'), 2)
    t.equal(await cache.get('a*x'), undefined)
    t.equal(await cache.get('a*'), undefined)
    t.equal(await cache.get('abc'), 'abc')
    t.equal(await cache.get('[a]'), '[a]')
    t.equal(await other.get('a*x'), 'other namespace')
    t.equal(await cache.clear('[a]'), 1)
    t.equal(await cache.get('[a]'), undefined)
    t.equal(await cache.get('abc'), 'abc')
    t.equal(await cache.clear('?'), 0)
    t.equal(await cache.clear(), 1)
    t.equal(await cache.get('abc'), undefined)
    t.equal(await other.get('a*x'), 'other namespace')
  })

  t.test('non-serialisable values get a coded error and nothing is written', async (t) => {
    const { cache } = await app(t)
    await cache.set('k', 'before')
    const circular: Record<string, unknown> = {}
    circular.self = circular
    const bad: unknown[] = [() => 1, 10n, new Map(), new Set([1]), circular, undefined, { n: Number.NaN }, Symbol('s'), new Date('nope'),
      [1, undefined, 3], { a: 1, b: undefined }, { deep: [{ ok: true }, { x: [undefined] }] }]
    for (const value of bad) {
      await t.rejects(cache.set('k', value), { code: 'FST_REDKIT_CACHE_NOT_SERIALIZABLE' })
    }
    t.equal(await cache.get('k'), 'before')
    await t.rejects(cache.wrap('w', () => ({ f: () => 1 })), { code: 'FST_REDKIT_CACHE_NOT_SERIALIZABLE' })
    t.equal(await cache.get('w'), undefined)
  })

  t.test('values over maxSize get a coded error and nothing is written', async (t) => {
    const { cache } = await app(t, { cache: { maxSize: 100 } })
    await cache.set('k', 'small')
    await t.rejects(cache.set('k', 'x'.repeat(200)), { code: 'FST_REDKIT_CACHE_TOO_LARGE' })
    await t.rejects(cache.set('k', 'é'.repeat(60)), { code: 'FST_REDKIT_CACHE_TOO_LARGE' })
    t.equal(await cache.get('k'), 'small')
  })

  t.test('bad arguments get coded errors', async (t) => {
    const { cache } = await app(t)
    const code = { code: 'FST_REDKIT_CACHE_INVALID_ARGUMENT' }
    await t.rejects(cache.get(''), code)
    await t.rejects(cache.get(42 as unknown as string), code)
    await t.rejects(cache.set('k', 1, { ttl: 0 }), code)
    await t.rejects(cache.set('k', 1, { ttl: 1.5 }), code)
    await t.rejects(cache.set('k', 1, { tags: 'x' as unknown as string[] }), code)
    await t.rejects(cache.set('k', 1, { tags: [''] }), code)
    await t.rejects(cache.wrap('k', 'nope' as unknown as () => number), code)
    await t.rejects(cache.wrap('k', () => 1, { staleTtl: -1 }), code)
    await t.rejects(cache.invalidate({ tags: [1 as unknown as string] }), code)
    t.throws(() => cache.ns('bad{ns}'), code)
    t.equal(await cache.get('k'), undefined)
  })

  t.test('invalid plugin options fail at register', async (t) => {
    for (const bad of [{ ttl: 0 }, { staleTtl: -5 }, { l1: { max: 0 } }, { serializer: { serialize: 1 } }, { nope: true }, { namespace: 'a b' }, { onRedisError: 'half' }]) {
      await t.rejects(app(t, { cache: bad as never }), { code: 'FST_REDKIT_CACHE_INVALID_OPTION' })
    }
  })

  t.test('stale-while-revalidate serves the old value and refreshes once', async (t) => {
    const { cache } = await app(t)
    let version = 0
    let runs = 0
    const loader = async (): Promise<number> => {
      runs++
      await sleep(50)
      return ++version
    }
    t.equal(await cache.wrap('s', loader, { ttl: 80, staleTtl: 10_000 }), 1)
    await sleep(150)
    const stale = await Promise.all(Array.from({ length: 10 }, async () => await cache.wrap('s', loader, { ttl: 80, staleTtl: 10_000 })))
    t.ok(stale.every((v) => v === 1), 'stale value served while refreshing')
    t.equal(await cache.get('s'), undefined, 'get() only returns fresh values')
    await sleep(120)
    t.equal(runs, 2, 'one background refresh')
    t.equal(await cache.wrap('s', loader, { ttl: 5000, staleTtl: 10_000 }), 2)
    t.ok(cache.stats().namespaces.default!.staleServes >= 1)
  })

  t.test('namespaces are separate and counted separately', async (t) => {
    const { cache } = await app(t)
    const users = cache.ns('users')
    t.equal(users.namespace, 'users')
    t.equal(cache.ns('users'), users)
    await cache.set('k', 'default')
    await users.set('k', 'users', { tags: ['t'] })
    await cache.set('tagged', 1, { tags: ['t'] })
    t.equal(await users.get('k'), 'users')
    t.equal(await users.get('nope'), undefined)
    t.equal(await users.invalidate({ tags: ['t'] }), 1)
    t.equal(await cache.get('tagged'), 1)
    const stats = cache.stats()
    t.match(stats.namespaces.users, { hits: 1, misses: 1, hitRate: 0.5 })
    t.equal(stats.total.hits, stats.namespaces.users!.hits + stats.namespaces.default!.hits)
  })

  t.test('cached() wraps a function by its arguments', async (t) => {
    const { cache } = await app(t)
    const calls: number[] = []
    async function findUser (id: number): Promise<{ id: number, at: Date }> {
      calls.push(id)
      return { id, at: new Date(1000) }
    }
    const find = cache.cached(findUser, { ttl: 10_000, tags: (id) => [`user:${id}`] })
    t.same(await find(1), { id: 1, at: new Date(1000) })
    t.same(await find(1), { id: 1, at: new Date(1000) })
    await find(2)
    t.same(calls, [1, 2])
    await cache.invalidate({ tags: ['user:1'] })
    await find(1)
    await find(2)
    t.same(calls, [1, 2, 1])
    const keyed = cache.cached(async (a: string, b: string) => a + b, { key: (a, b) => `cat:${a}:${b}` })
    t.equal(await keyed('x', 'y'), 'xy')
    t.equal(await cache.get('cat:x:y'), 'xy')
    t.throws(() => cache.cached(async () => 1), { code: 'FST_REDKIT_CACHE_INVALID_ARGUMENT' })
  })

  t.test('@Cacheable and @CacheInvalidate cache a service method and drop it by tag', async (t) => {
    const { cache } = await app(t)
    const calls: number[] = []
    class Users {
      constructor (readonly cache: Cache) {}
      @Cacheable({ ttl: 10_000, tags: (id: number) => [`user:${id}`] })
      async find (id: number): Promise<{ id: number, at: Date, by: string }> {
        calls.push(id)
        return { id, at: new Date(1000), by: this.label() }
      }

      @CacheInvalidate({ tags: (id: number) => [`user:${id}`] })
      async rename (id: number, fail = false): Promise<string> {
        if (fail) throw new Error('write failed')
        return `renamed ${id}`
      }

      label (): string { return 'users' }
    }
    const users = new Users(cache)
    t.same(await users.find(1), { id: 1, at: new Date(1000), by: 'users' }, 'this is the instance')
    t.same(await users.find(1), { id: 1, at: new Date(1000), by: 'users' })
    t.same(calls, [1], 'the second call is a hit')
    t.same(await cache.get('find:[1]'), { id: 1, at: new Date(1000), by: 'users' }, 'the default key is <method>:<JSON of the arguments>')
    await t.rejects(users.rename(1, true), { message: 'write failed' })
    await users.find(1)
    t.same(calls, [1], 'a failed mutation invalidates nothing')
    t.equal(await users.rename(1), 'renamed 1')
    await users.find(1)
    t.same(calls, [1, 1], 'a successful mutation dropped the entry')

    class Scoped {
      constructor (readonly deps: { cache: Cache }) {}
      @Cacheable({ from: (self: Scoped) => self.deps.cache.ns('scoped'), key: (n: number) => `n:${n}` })
      async double (n: number): Promise<number> { return n * 2 }
    }
    t.equal(await new Scoped({ cache }).double(4), 8)
    t.equal(await cache.ns('scoped').get('n:4'), 8, 'the key and namespace came from the options')

    class NoCache {
      @Cacheable()
      async one (): Promise<number> { return 1 }
    }
    await t.rejects(new NoCache().one(), { code: 'FST_REDKIT_CACHE_INVALID_ARGUMENT' })
    t.throws(() => CacheInvalidate({} as never), { code: 'FST_REDKIT_CACHE_INVALID_ARGUMENT' })
  })

  t.test('a custom serializer is used for every value', async (t) => {
    const seen: string[] = []
    const { cache } = await app(t, {
      cache: {
        serializer: {
          serialize: (v) => { seen.push('s'); return JSON.stringify({ wrapped: v }) },
          deserialize: (text) => { seen.push('d'); return (JSON.parse(text) as { wrapped: unknown }).wrapped }
        }
      }
    })
    await cache.set('k', [1, 2])
    t.same(await cache.get('k'), [1, 2])
    t.same(seen, ['s', 'd'])
  })
}
