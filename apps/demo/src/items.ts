import type { FastifyInstance } from 'fastify'

export interface Item {
  id: string
  name: string
  price: number
  updatedAt: string
}

/** The demo's stand-in for a database: a Redis hash, or a Map in memory mode. */
export interface ItemStore {
  list: () => Promise<Item[]>
  put: (item: Item) => Promise<void>
}

const SEED: Item[] = [
  { id: '1', name: 'Teapot', price: 18, updatedAt: '2026-01-01T00:00:00.000Z' },
  { id: '2', name: 'Kettle', price: 42, updatedAt: '2026-01-01T00:00:00.000Z' },
  { id: '3', name: 'Mug', price: 7, updatedAt: '2026-01-01T00:00:00.000Z' }
]
// Demo data lives for 30 days after its last write, like every other redkit key.
const ITEMS_TTL_MS = 30 * 24 * 3600 * 1000

function byId (a: Item, b: Item): number {
  return a.id.localeCompare(b.id, 'en', { numeric: true })
}

export async function createItemStore (app: FastifyInstance): Promise<ItemStore> {
  const redis = app.redkit.client
  if (redis === null) {
    const items = new Map(SEED.map((item) => [item.id, item]))
    return {
      list: async () => [...items.values()].sort(byId),
      put: async (item) => { items.set(item.id, item) }
    }
  }
  const key = app.redkit.key('demo', 'items')
  for (const item of SEED) await redis.hsetnx(key, item.id, JSON.stringify(item))
  await redis.pexpire(key, ITEMS_TTL_MS)
  return {
    list: async () => Object.values(await redis.hgetall(key)).map((raw) => JSON.parse(raw) as Item).sort(byId),
    put: async (item) => {
      await redis.multi().hset(key, item.id, JSON.stringify(item)).pexpire(key, ITEMS_TTL_MS).exec()
    }
  }
}
