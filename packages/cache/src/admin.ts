import type { RedkitDescription, RedkitMetricDescription, RedkitSample } from '@redkit/core'
import { fieldsSchema } from '@redkit/core/kit'
import type { Cache } from './cache.js'
import type { CacheStats, NamespaceStats } from './stats.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

const COUNTERS: Array<[Exclude<keyof NamespaceStats, 'hitRate'>, string, string]> = [
  ['hits', 'redkit_cache_hits_total', 'Cache reads that found a fresh value'],
  ['misses', 'redkit_cache_misses_total', 'Cache reads that found nothing'],
  ['loaderRuns', 'redkit_cache_loader_runs_total', 'Loader calls after a miss'],
  ['staleServes', 'redkit_cache_stale_serves_total', 'Stale values served while refreshing'],
  ['errors', 'redkit_cache_errors_total', 'Cache operations that failed'],
  ['l1Hits', 'redkit_cache_l1_hits_total', 'Hits answered by the in-process L1'],
  ['lockWaits', 'redkit_cache_lock_waits_total', 'Misses that waited for another caller\'s loader'],
  ['lockTimeouts', 'redkit_cache_lock_timeouts_total', 'Waits that gave up and ran the loader']
]

const counters = fieldsSchema(COUNTERS.map(([field]) => field))
;(counters.properties as Record<string, unknown>).hitRate = { type: 'number' }
const statsSchema = { type: 'object', properties: { total: counters, namespaces: { type: 'object', additionalProperties: counters } } }

function perNamespace (read: (c: NamespaceStats) => number) {
  return (s: CacheStats): RedkitSample[] => Object.entries(s.namespaces).map(([namespace, c]): RedkitSample => [{ namespace }, read(c)])
}

const metrics: Array<RedkitMetricDescription<CacheStats>> = [
  ...COUNTERS.map(([field, name, help]): RedkitMetricDescription<CacheStats> =>
    ({ name, type: 'counter', help, labelNames: ['namespace'], read: perNamespace((c) => c[field]) })),
  { name: 'redkit_cache_hit_ratio', type: 'gauge', help: 'hits / (hits + misses) since start', labelNames: ['namespace'], read: perNamespace((c) => c.hitRate) }
]

export function describeCache (cache: Cache): RedkitDescription<CacheStats> {
  return {
    name: 'cache',
    package: '@redkit/cache',
    stats: () => cache.stats(),
    statsSchema,
    metrics,
    routes: [{
      method: 'GET',
      url: '/cache/stats',
      summary: 'Cache counters, in total and per namespace',
      schema: { response: statsSchema },
      handler: () => cache.stats()
    }, {
      method: 'DELETE',
      url: '/cache',
      summary: 'Deletes every cache entry filed under the tag(s); repeat ?tag= for several',
      schema: {
        querystring: {
          type: 'object',
          properties: { tag: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, minItems: 1, maxItems: 100 } },
          required: ['tag'],
          additionalProperties: false
        },
        response: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } }, removed: { type: 'integer' } } }
      },
      handler: async ({ query, log }) => {
        const tags: string[] = query.tag
        const removed = await cache.invalidate({ tags })
        log.info({ tags, removed }, 'redkit cache: invalidated by tag from the admin')
        return { tags, removed }
      }
    }],
    panel: {
      title: 'Cache',
      values: [
        { label: 'Hits', path: 'total.hits' },
        { label: 'Misses', path: 'total.misses' },
        { label: 'Hit rate', path: 'total.hitRate', format: 'percent' }
      ],
      tables: [{
        path: 'namespaces',
        keyLabel: 'Namespace',
        columns: [
          { label: 'Hits', path: 'hits' },
          { label: 'Misses', path: 'misses' },
          { label: 'Hit rate', path: 'hitRate', format: 'percent' },
          { label: 'Loads', path: 'loaderRuns' },
          { label: 'Errors', path: 'errors' }
        ],
        empty: 'No cache reads yet.'
      }],
      actions: [{
        label: 'Invalidate',
        method: 'DELETE',
        url: '/cache',
        input: { label: 'tag', query: 'tag' },
        done: 'Invalidated {removed} cache entries tagged {tags}.',
        danger: true
      }]
    }
  }
}
