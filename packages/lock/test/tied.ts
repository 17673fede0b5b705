import type { Test } from 'tap'
import type { Cluster, Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import type { LockPage } from '../src/index.js'

const code = (err: unknown): unknown => (err as { code?: unknown }).code

/** Every page of a listing from `cursor`, `limit` at a time: the names listed, in order, and the cursors. */
async function listAll (app: FastifyInstance, limit: number, cursor: string | null = null): Promise<{ names: string[], cursors: string[] }> {
  const names: string[] = []
  const cursors: string[] = []
  for (let pages = 0; pages < 200; pages++) {
    const page: LockPage = await app.locks.list({ cursor, limit })
    names.push(...page.locks.map((l) => l.name))
    if (page.cursor === null) break
    cursors.push(page.cursor)
    cursor = page.cursor
  }
  return { names, cursors }
}

/**
 * Registry entries ending at the same time (as grants in one server microsecond, or semaphores,
 * whose lease ends are whole ms, can): written by hand into `registries` (by shard), they
 * page fully, each once, even when the entry a cursor names is released meanwhile; and cursors
 * of earlier versions ("<shard>.<lease end>", unique lease ends) still resume.
 */
export async function tiedPaging (t: Test, app: FastifyInstance, admin: Redis | Cluster, registries: Array<[shard: number, registry: string]>): Promise<void> {
  // A real lock first: the registry then exists with its TTL and keeper.
  const real = await app.locks.acquire('tied:real', { ttl: 60_000 })
  const [seconds] = await admin.time()
  const end = (Number(seconds) + 30) * 1_000_000
  const expected = ['tied:real']
  for (const [shard, registry] of registries) {
    const names = Array.from({ length: 23 }, (_, i) => `tied:${shard}:${i}|x`)
    expected.push(...names)
    await admin.zadd(registry, ...names.flatMap((name, i) => [end, `l|${i + 1}|owner${i % 3}|${name}`]))
  }
  expected.sort()
  for (const limit of [1, 4, 23, 1000]) {
    const { names } = await listAll(app, limit)
    t.same([...names].sort(), expected, `every entry once, ${limit} a page`)
  }
  t.equal(await app.locks.count(), expected.length)

  // The entry a cursor names goes before the next page: the rest still follows, each once.
  const first: LockPage = await app.locks.list({ limit: 5 })
  const lastListed = first.locks[first.locks.length - 1]!
  t.not(first.cursor, null)
  const gone = registries.find(([shard]) => first.cursor!.startsWith(`${shard}.`))![1]
  t.equal(await admin.zrem(gone, `l|${lastListed.token}|${lastListed.owner}|${lastListed.name}`), 1, 'the entry named by the cursor is removed')
  const rest = await listAll(app, 3, first.cursor)
  const listed = [...first.locks.map((l) => l.name), ...rest.names]
  t.equal(new Set(listed).size, listed.length, 'no entry twice')
  t.same([...listed].sort(), expected, 'no entry left out')
  expected.splice(expected.indexOf(lastListed.name), 1)

  // A cursor of an earlier version resumes after every entry ending at its lease end.
  if (registries.length === 1) {
    t.same([...(await listAll(app, 1000, `0.${end - 1}`)).names].sort(), expected, 'from before the tie')
    t.same((await listAll(app, 1000, `0.${end}`)).names, lastListed.name === 'tied:real' ? [] : ['tied:real'], 'from after the tie')
  }
  for (const bad of ['0.12.', '0.12.x', '0.12.l|1|o', '0.12.q|x', `0.${'9'.repeat(18)}.s|x`, '99.12.s|x']) {
    t.equal(code(await app.locks.list({ cursor: bad }).catch((e: unknown) => e)), 'FST_REDKIT_LOCK_INVALID_CURSOR', bad)
  }
  for (const [, registry] of registries) await admin.zremrangebyscore(registry, end, end)
  await real.release()
  t.equal(await app.locks.count(), 0)
}
