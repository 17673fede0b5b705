import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Redkit } from '@redkit/core'
import type { Packages } from './packages.js'

type Sample = [Record<string, string>, number]

interface Sources {
  redkit: Redkit
  packages: () => Packages
}

/** A counter whose value is read from a package's own totals at scrape time. */
export function mirroredCounter (registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[]): void {
  // eslint-disable-next-line no-new
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect () {
      this.reset()
      for (const [labels, value] of read()) if (Number.isFinite(value) && value >= 0) this.inc(labels, value)
    }
  })
}

export function mirroredGauge (registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[] | Promise<Sample[]>): void {
  // eslint-disable-next-line no-new
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect () {
      this.reset()
      for (const [labels, value] of await read()) if (Number.isFinite(value)) this.set(labels, value)
    }
  })
}

const CORE_COUNTERS = [
  ['commands', 'redkit_redis_commands_total', 'Redis commands sent by this instance'],
  ['errors', 'redkit_redis_command_errors_total', 'Redis commands that failed'],
  ['timeouts', 'redkit_redis_command_timeouts_total', 'Redis commands that missed their deadline'],
  ['offlineRejected', 'redkit_redis_offline_rejected_total', 'Commands refused because the offline queue was full'],
  ['reconnects', 'redkit_redis_reconnects_total', 'Reconnections to Redis after a loss']
] as const

const CACHE_COUNTERS = [
  ['hits', 'redkit_cache_hits_total', 'Cache reads that found a fresh value'],
  ['misses', 'redkit_cache_misses_total', 'Cache reads that found nothing'],
  ['loaderRuns', 'redkit_cache_loader_runs_total', 'Loader calls after a miss'],
  ['staleServes', 'redkit_cache_stale_serves_total', 'Stale values served while refreshing'],
  ['errors', 'redkit_cache_errors_total', 'Cache operations that failed'],
  ['l1Hits', 'redkit_cache_l1_hits_total', 'Hits answered by the in-process L1'],
  ['lockWaits', 'redkit_cache_lock_waits_total', 'Misses that waited for another caller\'s loader'],
  ['lockTimeouts', 'redkit_cache_lock_timeouts_total', 'Waits that gave up and ran the loader']
] as const

const PUBSUB_COUNTERS = [
  ['published', 'redkit_pubsub_published_total', 'Messages published by this instance'],
  ['received', 'redkit_pubsub_received_total', 'Messages received from Redis'],
  ['malformed', 'redkit_pubsub_malformed_total', 'Messages that could not be decoded'],
  ['gaps', 'redkit_pubsub_gaps_total', 'Gaps detected in message sequences'],
  ['missed', 'redkit_pubsub_missed_total', 'Messages reported missing by gaps'],
  ['resubscribes', 'redkit_pubsub_resubscribes_total', 'Resubscriptions after a reconnect']
] as const

/**
 * Fills a registry with redkit metrics. Values are read from core and from
 * each registered package when Prometheus scrapes, so nothing runs between scrapes.
 */
export function buildRegistry (registry: Registry, { redkit, packages }: Sources): Registry {
  // One ping per scrape, shared by the metrics that report it (they are collected concurrently).
  let probe: { at: number, result: ReturnType<Redkit['health']> } | undefined
  const health = async (): ReturnType<Redkit['health']> => {
    const now = Date.now()
    if (probe === undefined || now - probe.at > 250) {
      const result = redkit.health()
      probe = { at: now, result }
      const h = await result
      if (h.status === 'ok' && redkit.mode === 'redis') ping.observe(h.latencyMs / 1000)
    }
    return await probe.result
  }
  const ping = new Histogram({
    name: 'redkit_redis_ping_duration_seconds',
    help: 'Round trip of the ping made at each scrape',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
    async collect () { await health() }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'redkit_redis_up',
    help: '1 when Redis answered a ping within the health deadline (always 1 in memory mode)',
    registers: [registry],
    async collect () {
      this.set((await health()).status === 'ok' ? 1 : 0)
    }
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'redkit_info',
    help: 'Backend of this instance',
    labelNames: ['mode', 'cluster'],
    registers: [registry],
    collect () {
      this.reset()
      this.set({ mode: redkit.mode, cluster: String(redkit.isCluster) }, 1)
    }
  })
  for (const [field, name, help] of CORE_COUNTERS) {
    mirroredCounter(registry, name, help, [], () => [[{}, redkit.stats()[field]]])
  }

  for (const [field, name, help] of CACHE_COUNTERS) {
    mirroredCounter(registry, name, help, ['namespace'], () => {
      const stats = packages().cache?.stats()
      return Object.entries(stats?.namespaces ?? {}).map(([namespace, counters]): Sample => [{ namespace }, counters[field]])
    })
  }
  mirroredGauge(registry, 'redkit_cache_hit_ratio', 'hits / (hits + misses) since start', ['namespace'], () =>
    Object.entries(packages().cache?.stats().namespaces ?? {}).map(([namespace, c]): Sample => [{ namespace }, c.hitRate]))

  for (const [field, name, help] of PUBSUB_COUNTERS) {
    mirroredCounter(registry, name, help, [], () => {
      const stats = packages().pubsub?.stats()
      return stats === undefined ? [] : [[{}, stats[field]]]
    })
  }
  mirroredGauge(registry, 'redkit_pubsub_subscribers', 'Local subscribers per channel or pattern', ['channel'], () => {
    const stats = packages().pubsub?.stats()
    if (stats === undefined) return []
    return [...stats.channels.map((c): Sample => [{ channel: c.channel }, c.subscribers]),
      ...stats.patterns.map((p): Sample => [{ channel: p.pattern }, p.subscribers])]
  })
  mirroredGauge(registry, 'redkit_pubsub_sse_clients', 'Open server-sent event streams', [], () => {
    const stats = packages().pubsub?.stats()
    return stats === undefined ? [] : [[{}, stats.sseClients]]
  })

  mirroredGauge(registry, 'redkit_locks_waiting', 'Callers of this instance waiting for a lock', [], () => {
    const stats = packages().locks?.stats?.()
    return stats === undefined ? [] : [[{}, stats.waiting]]
  })
  mirroredCounter(registry, 'redkit_locks_subscription_losses_total', 'Failed or lost subscriptions to lock release notifications', [], () => {
    const stats = packages().locks?.stats?.()
    return stats === undefined ? [] : [[{}, stats.subscriptionLosses]]
  })
  mirroredGauge(registry, 'redkit_locks_held', 'Locks and semaphores currently held', [], async () => {
    const locks = packages().locks
    if (locks === undefined) return []
    try {
      return [[{}, await locks.count()]]
    } catch {
      return []
    }
  })
  return registry
}

export function newRegistry (): Registry {
  return new Registry()
}
