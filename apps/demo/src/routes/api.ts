import type { FastifyPluginAsync } from 'fastify'
import type { Item, ItemStore } from '../items.js'
import { ERROR, requireLogin } from '../login.js'

export interface ApiOptions {
  items: ItemStore
  itemsRateLimit: number
}

const ITEM = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, price: { type: 'number' }, updatedAt: { type: 'string' } }
} as const

/** A cached, rate-limited read API and a mutation that invalidates it: @redkit/cache and @redkit/rate-limit. */
export const apiRoutes: FastifyPluginAsync<ApiOptions> = async (app, { items, itemsRateLimit }) => {
  app.get('/api/items', {
    schema: {
      summary: 'List items (response-cached with ETag; rate-limited, fail-open)',
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: ITEM }, servedBy: { type: 'string' } } } }
    },
    config: {
      rateLimit: { max: itemsRateLimit, timeWindow: 60_000, onRedisError: 'open' },
      cache: { ttl: 30_000, tags: ['items'] }
    }
  }, async () => ({ items: await items.list(), servedBy: app.redkit.instanceId }))

  app.put<{ Params: { id: string }, Body: { name: string, price: number } }>('/api/items/:id', {
    onRequest: requireLogin,
    schema: {
      summary: 'Create or replace an item (needs a login); invalidates cached lists on every instance',
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } },
      body: {
        type: 'object',
        required: ['name', 'price'],
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, price: { type: 'number', minimum: 0 } }
      },
      response: { 200: ITEM, 401: ERROR }
    },
    config: { cacheInvalidate: { tags: ['items'] } }
  }, async (request) => {
    const item: Item = { id: request.params.id, ...request.body, updatedAt: new Date().toISOString() }
    await items.put(item)
    return item
  })
}
