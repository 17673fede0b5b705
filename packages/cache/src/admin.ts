import type { RedkitDescription, RedkitMetricDescription, RedkitSample } from '@redkit/core'
import { fieldsSchema, panelValues } from '@redkit/core/kit'
import type { Cache } from './cache.js'
import type { CacheStats, NamespaceStats } from './stats.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

type Counter = Exclude<keyof NamespaceStats, 'hitRate'>

/** Each counter's help text; its metric is redkit_cache_<field in snake case>_total. */
const COUNTERS: Record<Counter, string> = {
  hits: 'Cache reads that found a fresh value',
  misses: 'Cache reads that found nothing',
  loaderRuns: 'Loader calls after a miss',
  staleServes: 'Stale values served while refreshing',
  errors: 'Cache operations that failed',
  l1Hits: 'Hits answered by the in-process L1',
  lockWaits: 'Misses that waited for another caller\'s loader',
  lockTimeouts: 'Waits that gave up and ran the loader'
}
const FIELDS = Object.keys(COUNTERS) as Counter[]
const metricName = (field: string): string => `redkit_cache_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`

const counters = fieldsSchema(FIELDS)
;(counters.properties as Record<string, unknown>).hitRate = { type: 'number' }
const statsSchema = { type: 'object', properties: { total: counters, namespaces: { type: 'object', additionalProperties: counters } } }

function perNamespace (read: (c: NamespaceStats) => number) {
  return (s: CacheStats): RedkitSample[] => Object.entries(s.namespaces).map(([namespace, c]): RedkitSample => [{ namespace }, read(c)])
}

const metrics: Array<RedkitMetricDescription<CacheStats>> = [
  ...FIELDS.map((field): RedkitMetricDescription<CacheStats> =>
    ({ name: metricName(field), type: 'counter', help: COUNTERS[field], labelNames: ['namespace'], read: perNamespace((c) => c[field]) })),
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
      values: panelValues(['Hits', 'total.hits'], ['Misses', 'total.misses'], ['Hit rate', 'total.hitRate', 'percent']),
      tables: [{
        path: 'namespaces',
        keyLabel: 'Namespace',
        columns: panelValues(['Hits', 'hits'], ['Misses', 'misses'], ['Hit rate', 'hitRate', 'percent'], ['Loads', 'loaderRuns'], ['Errors', 'errors']),
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
