import type { RedkitDescription } from '@redkit/core'
import { pageQuerySchema, panelValues, typedFields } from '@redkit/core/kit'
import type { Locks, LockStats } from './locks.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

export interface LockAdminStats extends LockStats {
  /** Locks and semaphores held by any instance, counted in the registry; null when Redis did not answer. */
  heldEverywhere: number | null
}

// held counts this instance's locks, heldEverywhere every instance's.
const statsSchema = {
  type: 'object',
  properties: { ...typedFields(['waiting', 'held', 'subscriptionLosses']), heldEverywhere: { type: ['integer', 'null'] }, subscribed: { type: 'boolean' } }
}

const lockInfo = {
  type: 'object',
  properties: {
    ...typedFields(['name', 'kind', 'owner'], 'string'),
    ...typedFields(['token', 'ttl'], 'number'),
    holders: { type: 'array', items: { type: 'object', additionalProperties: true } }
  }
}

export function describeLocks (locks: Locks): RedkitDescription<LockAdminStats> {
  return {
    name: 'lock',
    package: '@redkit/lock',
    // count() reads one counter of the registry: a scrape never lists the locks.
    stats: async () => ({ ...locks.stats(), heldEverywhere: await locks.count().catch(() => null) }),
    statsSchema,
    metrics: [
      { name: 'redkit_locks_waiting', type: 'gauge', help: 'Callers of this instance waiting for a lock', read: (s) => [[{}, s.waiting]] },
      {
        name: 'redkit_locks_subscription_losses_total',
        type: 'counter',
        help: 'Failed or lost subscriptions to lock release notifications',
        read: (s) => [[{}, s.subscriptionLosses]]
      },
      {
        name: 'redkit_locks_held',
        type: 'gauge',
        help: 'Locks and semaphores currently held',
        read: (s) => s.heldEverywhere === null ? [] : [[{}, s.heldEverywhere]]
      }
    ],
    routes: [{
      method: 'GET',
      url: '/locks',
      summary: 'A page of held locks and semaphores, soonest-ending lease first, from the registry of held locks',
      schema: {
        querystring: pageQuerySchema({ maxLength: 1024, description: 'nextCursor of the previous page' }),
        response: { type: 'object', properties: { locks: { type: 'array', items: lockInfo }, nextCursor: { type: ['string', 'null'] } } }
      },
      handler: async ({ query }, errors) => {
        try {
          const page = await locks.list({ cursor: query.cursor, limit: query.limit })
          return { locks: page.locks, nextCursor: page.cursor }
        } catch (err) {
          if ((err as { code?: unknown }).code === 'FST_REDKIT_LOCK_INVALID_CURSOR') throw errors.invalidCursor()
          throw err
        }
      }
    }],
    panel: {
      title: 'Locks',
      values: panelValues(['Held', 'heldEverywhere'], ['Held here', 'held'], ['Waiting here', 'waiting'],
        ['Notification losses', 'subscriptionLosses']),
      lists: [{
        url: '/locks',
        path: 'locks',
        cursor: 'nextCursor',
        columns: panelValues(['Name', 'name'], ['Kind', 'kind'], ['Holders', 'holders.length'], ['Token', 'token'], ['Lease left', 'ttl', 'ms']),
        empty: 'No lock is held.'
      }]
    }
  }
}
