import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis'
import {
  close, connect, createClient, instrument, watch, type BreakerEvents, type ConnectionStats, type RedisClient
} from './connection.js'
import { markFailOnTryAgain } from './cluster.js'
import { Descriptions, type RedkitDescription, type RedkitDescriptionListener } from './describe.js'
import { RedkitMemoryModeError } from './errors.js'
import { escapeGlob, hashTag, joinKey } from './keys.js'
import { resolveConfig, type RedkitOptions, type ResolvedConfig } from './options.js'
import { scanKeys, type ScanOptions } from './scan.js'
import { scriptRunner } from './script.js'
import { SubscriberHub, type MessageListener, type RedkitSubscription, type SubscribeOptions } from './subscriber.js'

export type RedkitMode = 'redis' | 'memory'

export interface RedkitHealth {
  status: 'ok' | 'down'
  mode: RedkitMode
  latencyMs: number
  error?: string
}

export interface RedkitStats extends ConnectionStats {
  mode: RedkitMode
  status: string
}

/** A Lua script bound to the connection; it reloads itself after NOSCRIPT. */
export type RedkitScript<T = unknown> = (keys: string[], args?: Array<string | number | Buffer>) => Promise<T>

export interface ScriptOptions {
  /**
   * On Cluster, fail at once with FST_REDKIT_UNAVAILABLE (see isSlotMigrating)
   * when the script's keys are split by a slot migration (TRYAGAIN), instead
   * of retrying until the deadline: for callers that can do the same work one
   * key at a time, which a migrating slot still serves.
   */
  failWhileMigrating?: boolean
}

export interface DuplicateOptions {
  /** Per-command deadline of the copy in ms, e.g. longer for blocking reads. */
  commandTimeout?: number
  /** ioredis options of the copy: RedisOptions, or ClusterOptions on Cluster (e.g. shardedSubscribers). */
  overrides?: Partial<RedisOptions> | Partial<ClusterOptions>
}

export interface Redkit {
  /** 'redis' when connected to Redis, 'memory' when running on the embedded backend. */
  readonly mode: RedkitMode
  /** The ioredis client, or null in memory mode. */
  readonly client: RedisClient | null
  readonly isCluster: boolean
  /** Prefix of every key redkit writes. */
  readonly prefix: string
  /** Identifies this app instance, e.g. as a pub/sub publisher or lock owner. */
  readonly instanceId: string
  /** Per-command deadline in ms. */
  readonly commandTimeout: number
  /** Builds a key under the app prefix: key('sess', id) → 'redkit:sess:<id>'. */
  key: (...parts: Array<string | number>) => string
  /** Wraps a value in a Cluster hash tag. */
  hashTag: (value: string) => string
  /** Escapes glob characters for SCAN MATCH. */
  escapeGlob: (text: string) => string
  /** Pings Redis within its own deadline; never throws. */
  health: () => Promise<RedkitHealth>
  /** A new connection with the same settings (e.g. for subscribers), closed with the app. */
  duplicate: (opts?: DuplicateOptions) => RedisClient
  /** Iterates keys matching a full-key pattern, on every Cluster master. Never uses KEYS. */
  scan: (match: string, opts?: ScanOptions) => AsyncGenerator<string>
  /**
   * Registers a Lua script (EVALSHA with EVAL fallback after NOSCRIPT). Without
   * numberOfKeys, each call may pass any number of keys.
   */
  defineScript: <T = unknown>(name: string, lua: string, numberOfKeys?: number, opts?: ScriptOptions) => RedkitScript<T>
  /**
   * Listens to channels (or patterns) on one subscriber connection shared by
   * the app: subscribes with retries and backoff, again after every
   * reconnect, and logs loss and recovery once each.
   */
  subscribe: (names: string | string[], listener: MessageListener, opts?: SubscribeOptions) => RedkitSubscription
  stats: () => RedkitStats
  /** A package hands its admin surface (stats, metrics, dashboard panel, routes) to whichever admin is registered. */
  describe: <S>(description: RedkitDescription<S>) => void
  /** What the packages described, in registration order. */
  descriptions: () => Array<RedkitDescription<unknown>>
  /**
   * Calls `listener` with every description, at once for those already given
   * and as each later one is given (packages describe themselves while they
   * register, so an admin registered first still sees every one before the app starts).
   */
  onDescribe: (listener: RedkitDescriptionListener) => void
}

// redkit claims only app.redkit: app.redis belongs to @fastify/redis, and both
// plugins may be registered together while an app moves from one to the other.
declare module 'fastify' {
  interface FastifyInstance {
    redkit: Redkit
  }
}

function redactor (config: ResolvedConfig): (text: string) => string {
  const secrets = [config.password, config.sentinelPassword].filter((s): s is string => s !== undefined && s.length > 0)
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text)
}

function breakerLog (log: FastifyBaseLogger, redis: string, config: ResolvedConfig, role = 'connection'): BreakerEvents {
  return {
    onOpen: () => log.warn({ redis, role, commandTimeout: config.commandTimeout },
      'redkit: Redis stopped answering within the command deadline; failing fast until it answers again'),
    onClose: () => log.info({ redis, role }, 'redkit: Redis answers again; no longer failing fast')
  }
}

/**
 * Startup nodes of a Cluster copy: the nodes the connected client found in
 * CLUSTER SLOTS. ioredis picks a copy's subscriber node among its startup
 * nodes, then drops the nodes CLUSTER SLOTS does not list (e.g. replicas it
 * leaves out, or a name given for an address), closing a subscriber it had put
 * there: the first SUBSCRIBE then failed with "Connection is closed.".
 */
function clusterStartupNodes (client: Cluster): Array<{ host: string, port: number }> {
  return client.nodes('all').map((node) => ({ host: node.options.host!, port: node.options.port! }))
}

function memoryOnly (what: string): never {
  throw new RedkitMemoryModeError(what)
}

async function openClient (config: ResolvedConfig, log: FastifyBaseLogger, stats: ConnectionStats, redact: (s: string) => string): Promise<RedisClient | null> {
  const { target } = config
  if (target.kind === 'memory') {
    if (target.reason === 'unconfigured') {
      log.info('redkit: no Redis configured (set REDIS_URL); using the in-memory backend, which is for a single instance only')
    } else {
      log.info('redkit: in-memory backend selected by options')
    }
    return null
  }
  const client = target.kind === 'client' ? target.client : createClient(config)
  if (target.kind !== 'client') instrument(client, config, stats, breakerLog(log, target.description, config))
  watch(client, { log, description: target.description, stats, redact })
  try {
    await connect(client, config, target.description, redact)
    return client
  } catch (err) {
    if (config.fallback === 'fail') throw err
    log.warn({ redis: target.description, err: (err as Error).message },
      'redkit: Redis unreachable at startup; falling back to the in-memory backend (single instance only)')
    return null
  }
}

function buildRedkit (client: RedisClient | null, config: ResolvedConfig, stats: ConnectionStats, duplicates: Set<RedisClient>,
  log: FastifyBaseLogger, redact: (s: string) => string, hub: { current?: SubscriberHub }): Redkit {
  const mode: RedkitMode = client === null ? 'memory' : 'redis'
  const description = config.target.kind === 'memory' ? 'memory' : config.target.description
  const scripts = new Map<string, string>()
  const described = new Descriptions()
  const redkit: Redkit = {
    mode,
    client,
    isCluster: client instanceof Cluster,
    prefix: config.keyPrefix,
    instanceId: randomUUID(),
    commandTimeout: config.commandTimeout,
    key: (...parts) => joinKey(config.keyPrefix, parts),
    hashTag,
    escapeGlob,
    health: async () => {
      if (client === null) return { status: 'ok', mode, latencyMs: 0 }
      const started = performance.now()
      let timer: NodeJS.Timeout | undefined
      try {
        await Promise.race([
          client.ping(),
          new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`no reply within ${config.healthTimeout} ms`)), config.healthTimeout) })
        ])
        return { status: 'ok', mode, latencyMs: Math.round((performance.now() - started) * 100) / 100 }
      } catch (err) {
        return { status: 'down', mode, latencyMs: Math.round(performance.now() - started), error: redact((err as Error).message) }
      } finally {
        clearTimeout(timer)
      }
    },
    duplicate: (opts = {}) => {
      if (client === null) return memoryOnly('duplicate()')
      const commandTimeout = opts.commandTimeout ?? config.commandTimeout
      const copyConfig = { ...config, commandTimeout }
      let copy: RedisClient
      if (client instanceof Cluster) {
        const overrides = (opts.overrides ?? {}) as Partial<ClusterOptions>
        const redisOptions = { ...client.options.redisOptions, commandTimeout, ...overrides.redisOptions }
        copy = client.duplicate(clusterStartupNodes(client), { ...overrides, redisOptions })
      } else {
        copy = client.duplicate(opts.overrides as Partial<RedisOptions>)
      }
      if (config.target.kind !== 'client') instrument(copy, copyConfig, stats, breakerLog(log, description, copyConfig, 'duplicate'))
      watch(copy, { log, description, stats, redact }, 'duplicate')
      duplicates.add(copy)
      // Connect now so a subscriber is ready before the first message is published.
      if (copy.status === 'wait') copy.connect().catch(() => {})
      copy.once('end', () => duplicates.delete(copy))
      return copy
    },
    scan: (match, opts) => client === null ? memoryOnly('scan()') : scanKeys(client, match, opts),
    defineScript: <T>(name: string, lua: string, numberOfKeys?: number, opts?: ScriptOptions): RedkitScript<T> => {
      if (client === null) return memoryOnly(`script ${name}`)
      if (opts?.failWhileMigrating === true) markFailOnTryAgain(lua)
      // Also a client command under its name, for callers that pipeline it or call it with a flat argument list.
      if (scripts.get(name) !== lua) {
        client.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys })
        scripts.set(name, lua)
      }
      return scriptRunner<T>(client, lua, numberOfKeys)
    },
    subscribe: (names, listener, opts) => {
      if (client === null) return memoryOnly('subscribe()')
      hub.current ??= new SubscriberHub({
        // The hub subscribes again itself: ioredis' own resubscription leaves a refused SUBSCRIBE as an unhandled rejection.
        open: () => redkit.duplicate(client instanceof Cluster ? {} : { overrides: { autoResubscribe: false } }),
        publish: async (channel, message) => await client.publish(channel, message),
        probeChannel: redkit.key('core', 'probe', redkit.instanceId)
      }, log, stats)
      return hub.current.add(typeof names === 'string' ? [names] : names, listener, opts)
    },
    stats: () => ({ ...stats, mode, status: client === null ? 'memory' : client.status }),
    describe: (description) => described.add(description),
    descriptions: () => described.list(),
    onDescribe: (listener) => { described.follow(listener) }
  }
  return redkit
}

const plugin: FastifyPluginAsync<RedkitOptions> = async (app: FastifyInstance, options) => {
  const config = resolveConfig(options)
  const stats: ConnectionStats = {
    commands: 0,
    fastFailed: 0,
    errors: 0,
    timeouts: 0,
    offlineRejected: 0,
    reconnects: 0,
    subscriberLost: 0,
    subscriberRecovered: 0,
    subscribeRetries: 0
  }
  const redact = redactor(config)
  const client = await openClient(config, app.log, stats, redact)
  const duplicates = new Set<RedisClient>()
  const hub: { current?: SubscriberHub } = {}
  const redkit = buildRedkit(client, config, stats, duplicates, app.log, redact, hub)

  app.decorate('redkit', redkit)

  app.addHook('onClose', async () => {
    hub.current?.stop()
    await Promise.all([...duplicates].map(async (d) => await close(d, config.commandTimeout)))
    const target = config.target
    const owned = target.kind === 'standalone' || target.kind === 'sentinel' || target.kind === 'cluster' ||
      (target.kind === 'client' && target.close)
    if (client !== null && owned) await close(client, config.commandTimeout)
    if (client !== null) app.log.info('redkit: Redis connection closed')
  })
}

export const redkit = fp(plugin, { name: '@redkit/core', fastify: '5.x' })
export default redkit

export { resolveConfig, redactUrl } from './options.js'
export type { RedkitOptions, RedkitTlsOptions, HostPort, ResolvedConfig } from './options.js'
export { backoff, type RedisClient, type ConnectionStats } from './connection.js'
export { escapeGlob, hashTag } from './keys.js'
export type {
  RedkitDescription, RedkitMetricDescription, RedkitPanelDescription, RedkitPanelTable, RedkitPanelValue, RedkitSample,
  RedkitPanelList, RedkitPanelRowAction, RedkitPanelAction, RedkitRouteDescription, RedkitRouteMethod, RedkitRouteRequest,
  RedkitRouteErrors, RedkitRouteSchema, RedkitDescriptionListener
} from './describe.js'
export type { ScanOptions } from './scan.js'
export type { MessageListener, RedkitSubscription, SubscribeOptions, SubscriberStats } from './subscriber.js'
export {
  RedkitInvalidOptionError, RedkitConnectError, RedkitCommandTimeoutError, RedkitUnavailableError,
  RedkitOfflineQueueFullError, RedkitMemoryModeError, RedkitCrossSlotError, RedkitInvalidDescriptionError,
  RedkitDuplicateDescriptionError, isUnavailableError, isSlotMigrating, classifyError,
  toRedkitError, type RedisErrorKind
} from './errors.js'
