import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Redkit, RedkitSample } from '@redkit/core'

type Read = () => RedkitSample[] | Promise<RedkitSample[]>

/** A counter whose value is read from a package's own totals at scrape time. */
export function mirroredCounter (registry: Registry, name: string, help: string, labelNames: string[], read: Read): void {
  // eslint-disable-next-line no-new
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect () {
      const samples = await read()
      this.reset()
      for (const [labels, value] of samples) if (Number.isFinite(value) && value >= 0) this.inc(labels, value)
    }
  })
}

export function mirroredGauge (registry: Registry, name: string, help: string, labelNames: string[], read: Read): void {
  // eslint-disable-next-line no-new
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect () {
      const samples = await read()
      this.reset()
      for (const [labels, value] of samples) if (Number.isFinite(value)) this.set(labels, value)
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

/**
 * Fills a registry with core's metrics, read when Prometheus scrapes, so
 * nothing runs between scrapes. The packages' own come from their descriptions (see described.ts).
 */
export function buildRegistry (registry: Registry, redkit: Redkit): Registry {
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
  return registry
}

export function newRegistry (): Registry {
  return new Registry()
}
