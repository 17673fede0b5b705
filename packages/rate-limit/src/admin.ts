import type { RedkitDescription, RedkitRouteDescription, RedkitRouteErrors } from '@redkit/core'
import { fieldsSchema, typedFields } from '@redkit/core/kit'
import type { RateLimitDecision, RateLimitMetrics } from './limiter.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

/** What the admin routes use of app.limiter. */
export interface RateLimitAdminApi {
  metrics: () => RateLimitMetrics
  peek: (key: string) => Promise<RateLimitDecision>
  reset: (key: string) => Promise<void>
}

const COUNTERS: Array<[keyof RateLimitMetrics, string, string]> = [
  ['checks', 'redkit_rate_limit_checks_total', 'Rate limit checks'],
  ['allowed', 'redkit_rate_limit_allowed_total', 'Requests allowed'],
  ['denied', 'redkit_rate_limit_denied_total', 'Requests denied'],
  ['failedOpen', 'redkit_rate_limit_failed_open_total', 'Requests let through unchecked because Redis failed'],
  ['failedClosed', 'redkit_rate_limit_failed_closed_total', 'Requests refused because Redis failed'],
  ['deadlineMisses', 'redkit_rate_limit_deadline_misses_total', 'Checks abandoned at the deadline']
]

const LABELS: Record<keyof RateLimitMetrics, string> = {
  checks: 'Checks',
  allowed: 'Allowed',
  denied: 'Denied',
  failedOpen: 'Failed open',
  failedClosed: 'Failed closed',
  deadlineMisses: 'Deadline misses'
}

const keyParams = {
  type: 'object',
  properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } },
  required: ['key']
}

// Fields a newer decision may add are sent as they are.
const peekReply = {
  type: 'object',
  additionalProperties: true,
  properties: { key: { type: 'string' }, allowed: { type: 'boolean' }, ...typedFields(['remaining', 'limit', 'resetAt', 'retryAfter'], 'number') }
}

function checkKey (key: string, errors: RedkitRouteErrors): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw errors.invalidId('rate-limit key: control characters are not allowed')
  return key
}

function routes (api: RateLimitAdminApi): RedkitRouteDescription[] {
  return [{
    method: 'GET',
    url: '/rate-limit/:key',
    summary: 'Current state of a rate-limit key under the default limit, without consuming',
    schema: { params: keyParams, response: peekReply },
    handler: async ({ params }, errors) => {
      const key = checkKey(params.key, errors)
      return { ...await api.peek(key), key }
    }
  }, {
    method: 'DELETE',
    url: '/rate-limit/:key',
    summary: 'Forgets every counter of a rate-limit key',
    schema: { params: keyParams, response: { type: 'object', properties: { key: { type: 'string' }, reset: { type: 'boolean' } } } },
    handler: async ({ params, log }, errors) => {
      const key = checkKey(params.key, errors)
      await api.reset(key)
      log.info('redkit rate-limit: key reset from the admin')
      return { key, reset: true }
    }
  }]
}

export function describeRateLimit (api: RateLimitAdminApi): RedkitDescription<RateLimitMetrics> {
  return {
    name: 'rate-limit',
    package: '@redkit/rate-limit',
    stats: api.metrics,
    statsSchema: fieldsSchema(COUNTERS.map(([field]) => field)),
    metrics: COUNTERS.map(([field, name, help]) => ({ name, type: 'counter', help, read: (m) => [[{}, m[field]]] })),
    routes: routes(api),
    panel: {
      title: 'Rate limits',
      values: COUNTERS.map(([field]) => ({ label: LABELS[field], path: field })),
      actions: [
        { label: 'Look up', method: 'GET', url: '/rate-limit/:key', input: { label: 'key, e.g. an IP' }, done: '{key}: allowed {allowed} · {remaining} of {limit} left · retry after {retryAfter} ms' },
        { label: 'Reset', method: 'DELETE', url: '/rate-limit/:key', input: { label: 'key, e.g. an IP' }, done: 'Key {key} reset.', danger: true }
      ]
    }
  }
}
