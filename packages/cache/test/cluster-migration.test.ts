import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { startCluster } from '@redkit/testing'
import { makeApp } from './helpers.js'

// A slot in the middle of a migration, set up by hand (CLUSTER SETSLOT and
// MIGRATE) so that each order in which a namespace's keys move is checked.
const cluster = await startCluster({ masters: 3 })
t.teardown(cluster.stop)
const target = { kind: 'cluster' as const, nodes: cluster.nodes }

interface Node { id: string, host: string, port: number, slots: Array<[number, number]> }

async function masters (admin: Redis): Promise<Node[]> {
  const text = await admin.cluster('NODES') as string
  return text.trim().split('\n').map((line) => line.split(' ')).filter((f) => f[2]!.includes('master')).map((f) => {
    const [host, port] = f[1]!.split('@')[0]!.split(':')
    const slots = f.slice(8).filter((r) => !r.startsWith('[')).map((r) => {
      const [a, b] = r.split('-').map(Number)
      return [a!, b ?? a!] as [number, number]
    })
    return { id: f[0]!, host: host!, port: Number(port), slots }
  })
}

/** Starts moving the slot of `ns` to another master; returns how to move keys and how to finish. */
async function migrate (ns: string, prefix: string) {
  const admin = new Redis(cluster.servers[0]!.options())
  const slot = Number(await admin.cluster('KEYSLOT', `${prefix}cache:{${ns}}:x`))
  const nodes = await masters(admin)
  admin.disconnect()
  const source = nodes.find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b))!
  const dest = nodes.find((n) => n !== source)!
  const connect = (n: Node): Redis => new Redis(cluster.servers.find((s) => s.port === n.port)!.options())
  const src = connect(source)
  const dst = connect(dest)
  await dst.cluster('SETSLOT', slot, 'IMPORTING', source.id)
  await src.cluster('SETSLOT', slot, 'MIGRATING', dest.id)
  const move = async (...keys: string[]): Promise<void> => {
    await src.call('MIGRATE', dest.host, dest.port, '', 0, 5000, 'KEYS', ...keys)
  }
  const finish = async (): Promise<void> => {
    for (;;) {
      const keys = await src.cluster('GETKEYSINSLOT', slot, 100) as string[]
      if (keys.length === 0) break
      await move(...keys)
    }
    for (const n of [dest, source, ...nodes.filter((x) => x !== source && x !== dest)]) {
      const c = connect(n)
      await c.cluster('SETSLOT', slot, 'NODE', dest.id)
      c.disconnect()
    }
    src.disconnect()
    dst.disconnect()
  }
  return { move, finish }
}

/**
 * Runs `during` while the slot of `ns` migrates (it may move keys by hand),
 * checks that no command failed, finishes the move, and checks that the
 * entry 'k' invalidated meanwhile stays gone and can be written again.
 */
async function whileMigrating (t: Test, app: FastifyInstance, ns: string, during: (move: (...keys: string[]) => Promise<void>) => Promise<void>): Promise<void> {
  const cache = app.cache.ns(ns)
  const { move, finish } = await migrate(ns, app.redkit.prefix)
  try {
    await during(move)
    t.equal(cache.stats().namespaces[ns]!.errors, 0, 'no command failed')
  } finally {
    await finish()
  }
  t.equal(await cache.get('k'), undefined, 'nor after it')
  await cache.set('k', 'after', { tags: ['t'] })
  t.equal(await cache.get('k'), 'after')
}

for (const first of ['the tag version', 'the entry'] as const) {
  t.test(`an invalidation while the namespace's slot migrates, ${first} moved first: no stale read`, async (t) => {
    const app = await makeApp(t, target, { cache: { onRedisError: 'closed' } })
    const ns = first === 'the entry' ? 'migrate-entry' : 'migrate-tag'
    const cache = app.cache.ns(ns)
    await cache.set('k', 'old', { tags: ['t'] })
    await cache.set('other', 'kept', { tags: ['u'] })
    t.equal(await cache.get('k'), 'old')
    const base = `${app.redkit.prefix}cache:{${ns}}:`
    await whileMigrating(t, app, ns, async (move) => {
      if (first === 'the entry') await move(base + 'e:k')
      else await move(base + 'v:t', base + 't:t')
      await cache.invalidate({ tags: ['t'] })
      t.equal(await cache.get('k'), undefined, 'the entry is not served during the migration')
      t.equal(await cache.get('other').catch((err: Error) => err.message), 'kept', 'other entries still are')
      // An untagged write declares only its entry (the fill lock only when held), so a migration redirects it rather than refusing it.
      await cache.set('plain', 'written during the migration')
      t.equal(await cache.get('plain'), 'written during the migration')
    })
  })
}

for (const moved of ['no key', 'the tag version'] as const) {
  t.test(`tagged writes and fills while the namespace's slot migrates (${moved} moved): stored on the first try, invalidated after`, async (t) => {
    // A 5 s deadline: a write that waited for the move to end would take all of it and fail with 'closed'.
    const app = await makeApp(t, target, { cache: { onRedisError: 'closed' }, core: { commandTimeout: 5000 } })
    const ns = moved === 'no key' ? 'split-none' : 'split-tag'
    const cache = app.cache.ns(ns)
    await cache.set('seed', 1, { tags: ['t'] })
    const base = `${app.redkit.prefix}cache:{${ns}}:`
    await whileMigrating(t, app, ns, async (move) => {
      if (moved === 'the tag version') await move(base + 'v:t', base + 't:t')
      await cache.set('k', 'during', { tags: ['t', 'fresh-tag'] })
      t.equal(await cache.get('k'), 'during', 'the tagged write is readable')
      let runs = 0
      t.equal(await cache.wrap('w', async () => { runs++; return 'filled' }, { tags: ['t'] }), 'filled')
      t.equal(await cache.wrap('w', async () => { runs++; return 'again' }, { tags: ['t'] }), 'filled', 'the fill was stored')
      t.equal(runs, 1)
      await cache.invalidate({ tags: ['t'] })
      t.equal(await cache.get('k'), undefined, 'an invalidation still reaches an entry written during the move')
      t.equal(await cache.get('w'), undefined)
    })
  })
}
