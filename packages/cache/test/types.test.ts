import Fastify, { type FastifyContextConfig } from 'fastify'
import t from 'tap'
import redkit from '@redkit/core'
import redkitCache, { Cacheable, CacheInvalidate, type Cache, type CacheStats, type RouteCacheOptions } from '../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T> (value: T): T { return value }
function assertType<Check extends true> (): Check | undefined { return undefined }

const app = Fastify()
await app.register(redkit, { mode: 'memory', env: {} })
await app.register(redkitCache, { ttl: 1000, l1: { max: 10 } })

expectType<Cache>(app.cache)
expectType<CacheStats>(app.cache.stats())
assertType<Equal<Awaited<ReturnType<typeof app.cache.get<number>>>, number | undefined>>()
const wrapped = app.cache.wrap('k', async () => ({ id: 1 }))
assertType<Equal<typeof wrapped, Promise<{ id: number }>>>()
await wrapped
const find = app.cache.cached(async (id: number) => ({ id, name: 'x' }), { name: 'find', tags: (id) => [`u:${id}`] })
assertType<Equal<typeof find, (id: number) => Promise<{ id: number, name: string }>>>()
assertType<Equal<Parameters<typeof app.cache.set>[2], { ttl?: number, tags?: string[] } | undefined>>()
app.get('/x', { config: { cache: { ttl: 5000, key: (req) => req.url, tags: ['x'], vary: ['accept'] } } }, async () => 'x')
app.post('/x', { config: { cacheInvalidate: { tags: (req) => [String(req.id)] } } }, async () => 'x')
assertType<Equal<FastifyContextConfig['cache'], RouteCacheOptions | undefined>>()
// @ts-expect-error ttl must be a number
await app.cache.set('k', 1, { ttl: '5' }).catch(() => {})
export function neverCalled (): void {
  // @ts-expect-error route ttl must be a number
  app.get('/y', { config: { cache: { ttl: '5' } } }, async () => 'y')
}

export class Service {
  constructor (readonly cache: Cache) {}
  @Cacheable({ tags: (id: number) => [`u:${id}`] })
  async find (id: number): Promise<number> { return id }

  @CacheInvalidate({ tags: (id: number) => [`u:${id}`] })
  async save (id: number): Promise<void> {}

  // @ts-expect-error only async methods can be cached
  @Cacheable()
  sync (): number { return 1 }

  // @ts-expect-error tags take the method's arguments
  @CacheInvalidate({ tags: (id: string) => [id] })
  async drop (id: number): Promise<void> {}
}
assertType<Equal<ReturnType<Service['find']>, Promise<number>>>()

t.teardown(async () => { await app.close() })
t.test('the decorator exists at runtime', async (t) => {
  t.equal(typeof app.cache.wrap, 'function')
  t.equal(app.cache.namespace, 'default')
  t.equal(await find(1).then((u) => u.id), 1)
})
