import type { FastifyInstance } from 'fastify'
import type { SessionsApi } from './sessions.js'

/*
 * What the admin routes use of the other redkit packages, described by shape
 * so this package does not depend on them: whichever are registered are used.
 */

export interface LockInfoLike {
  name: string
  kind: string
  owner: string
  token: number
  ttl: number
  holders: unknown[]
}

export interface LocksApi {
  /** A page of held locks from @redkit/lock's registry; `cursor` is null at the end. */
  list: (opts: { cursor?: string | null, limit?: number }) => Promise<{ locks: LockInfoLike[], cursor: string | null }>
  /** How many are held, without reading them. */
  count: () => Promise<number>
  /** This instance's waiters and its release-notification subscription (absent in older versions). */
  stats?: () => { waiting: number, subscribed: boolean, subscriptionLosses: number }
}

export interface PubsubStatsLike {
  mode: string
  channels: Array<{ channel: string, subscribers: number }>
  patterns: Array<{ pattern: string, subscribers: number }>
  published: number
  received: number
  malformed: number
  gaps: number
  missed: number
  resubscribes: number
  sseClients: number
}

export interface PubsubApi {
  stats: () => PubsubStatsLike
}

export interface CacheCounters {
  hits: number
  misses: number
  hitRate: number
  loaderRuns: number
  staleServes: number
  errors: number
  l1Hits: number
  lockWaits: number
  lockTimeouts: number
}

export interface CacheStatsLike {
  total: CacheCounters
  namespaces: Record<string, CacheCounters>
}

export interface CacheApi {
  stats: () => CacheStatsLike
  invalidate: (opts: { tags: string[] }) => Promise<number>
}

export interface RateLimitDecisionLike {
  allowed: boolean
  remaining: number
  resetAt: number
  retryAfter: number
  limit: number
}

export interface RateLimitApi {
  peek: (key: string) => Promise<RateLimitDecisionLike>
  reset: (key: string) => Promise<void>
}

export interface Packages {
  sessions?: SessionsApi
  locks?: LocksApi
  pubsub?: PubsubApi
  cache?: CacheApi
  rateLimit?: RateLimitApi
}

export const PACKAGE_NAMES = {
  sessions: '@redkit/session',
  locks: '@redkit/lock',
  pubsub: '@redkit/pubsub',
  cache: '@redkit/cache',
  rateLimit: '@redkit/rate-limit'
} as const

function has (target: unknown, ...methods: string[]): boolean {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return false
  return methods.every((m) => typeof (target as Record<string, unknown>)[m] === 'function')
}

/** The registered packages, found by their decorators (checked when the app is ready). */
export function detectPackages (app: FastifyInstance): Packages {
  const found: Packages = {}
  const read = (name: string): unknown => app.hasDecorator(name) ? (app as unknown as Record<string, unknown>)[name] : undefined
  const sessions = read('sessions')
  if (has(sessions, 'meta', 'list', 'count', 'cleanup', 'listByUser', 'revoke', 'revokeAll')) found.sessions = sessions as SessionsApi
  const locks = read('locks')
  if (has(locks, 'list', 'count')) found.locks = locks as LocksApi
  const pubsub = read('pubsub')
  if (has(pubsub, 'stats')) found.pubsub = pubsub as PubsubApi
  const cache = read('cache')
  if (has(cache, 'stats', 'invalidate')) found.cache = cache as CacheApi
  const rateLimit = read('limiter')
  if (has(rateLimit, 'peek', 'reset')) found.rateLimit = rateLimit as RateLimitApi
  return found
}
