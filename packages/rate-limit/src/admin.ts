import type { RedkitDescription } from '@redkit/core'
import type { RateLimitMetrics } from './limiter.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows of this package. */

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

export function describeRateLimit (metrics: () => RateLimitMetrics): RedkitDescription<RateLimitMetrics> {
  return {
    name: 'rate-limit',
    package: '@redkit/rate-limit',
    stats: metrics,
    statsSchema: {
      type: 'object',
      properties: Object.fromEntries(COUNTERS.map(([field]) => [field, { type: 'integer' }]))
    },
    metrics: COUNTERS.map(([field, name, help]) => ({ name, type: 'counter', help, read: (m) => [[{}, m[field]]] })),
    panel: {
      title: 'Rate-limit counters',
      values: COUNTERS.map(([field]) => ({ label: LABELS[field], path: field }))
    }
  }
}
