import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import {
  RedkitConnectError, RedkitOfflineQueueFullError, RedkitUnavailableError, toRedkitError
} from './errors.js'
import type { SubscriberStats } from './subscriber.js'
import { ClusterDeadlines, clusterRetryOptions, patchNode, type ClusterCommand } from './cluster.js'
import { stamp, watchDeadlines, type Expirable } from './deadlines.js'
import { interceptSendCommand, isMaxRetriesError, offlineQueueLength, onClusterNode } from './ioredis-internals.js'
import { DEFAULT_RECONNECT_BASE, DEFAULT_RECONNECT_CAP, type ResolvedConfig } from './options.js'
import { writeCoalescer } from './writes.js'

export type RedisClient = Redis | Cluster

export interface ConnectionStats extends SubscriberStats {
  commands: number
  /** Commands failed at once because Redis had stopped answering. */
  fastFailed: number
  errors: number
  timeouts: number
  offlineRejected: number
  reconnects: number
}

/** Capped exponential backoff with full jitter, so instances do not reconnect in lockstep. */
export function backoff (attempt: number, base = DEFAULT_RECONNECT_BASE, cap = DEFAULT_RECONNECT_CAP): number {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20))
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2)
}

/**
 * Options of one connection. Deadlines of commands sent through an
 * instrumented client are kept by its Deadlines tracker; only the node
 * connections inside a Cluster, which the tracker does not see, get ioredis'
 * timer per command.
 */
function nodeOptions (config: ResolvedConfig, nodeDeadline = false): RedisOptions {
  return {
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.tls !== undefined ? { tls: config.tls } : {}),
    ...(nodeDeadline ? { commandTimeout: config.commandTimeout } : {}),
    maxRetriesPerRequest: config.maxRetries,
    connectTimeout: config.connectTimeout,
    enableOfflineQueue: true,
    lazyConnect: true
  }
}

export function createClient (config: ResolvedConfig): RedisClient {
  const { target } = config
  const retryStrategy = (attempt: number): number => backoff(attempt)
  if (target.kind === 'standalone') {
    return new Redis({ ...nodeOptions(config), host: target.host, port: target.port, db: config.db, retryStrategy })
  }
  if (target.kind === 'sentinel') {
    return new Redis({
      ...nodeOptions(config),
      sentinels: target.sentinels,
      name: target.name,
      db: config.db,
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
      // After a failover the old master may come back as a replica; a READONLY
      // reply means this client is talking to it and must rediscover the master.
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
      ...(config.sentinelPassword !== undefined ? { sentinelPassword: config.sentinelPassword } : {}),
      ...(config.tls !== undefined ? { enableTLSForSentinelMode: true, sentinelTLS: config.tls } : {})
    })
  }
  if (target.kind === 'cluster') {
    const options: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: true,
      clusterRetryStrategy: retryStrategy,
      ...clusterRetryOptions(config.commandTimeout),
      redisOptions: { ...nodeOptions(config, true), lazyConnect: false }
    }
    return new Cluster(target.nodes, options)
  }
  throw new Error(`no client for target ${target.kind}`)
}

interface CommandLike extends Expirable, ClusterCommand {}

export interface BreakerEvents {
  /** A command timed out: later commands fail at once until a probe is answered. */
  onOpen: () => void
  onClose: () => void
}

function isCoded (err: Error, code: string): boolean {
  return (err as { code?: string }).code === code
}

/** Clients being closed on purpose; their 'close' is not a lost connection. */
const closing = new WeakSet<RedisClient>()

/** Pause between probes that failed at once (e.g. while reconnecting), so probing never spins. */
const PROBE_RETRY = 100

/**
 * Fails commands at once while Redis is known not to answer. The first
 * command to time out opens it; from then on the app's commands fail at once
 * while the breaker itself sends PING, one at a time, and the first reply (or
 * a fresh connection) closes it. A paused or overloaded Redis then costs a
 * request at most the deadline of a command it had already sent.
 */
class Breaker {
  open = false
  /** True while the breaker's own PING is being sent, so it is let through. */
  bypass = false
  /** One chain of probes at a time, from the trip until Redis answers. */
  private probing = false
  private stopped = false

  constructor (private readonly ping: () => Promise<unknown>, private readonly events: BreakerEvents | undefined) {}

  trip (): void {
    if (this.open) return
    this.open = true
    this.events?.onOpen()
    if (!this.probing) {
      this.probing = true
      this.probe()
    }
  }

  /** The client was closed for good: no more probes. */
  stop (): void {
    this.stopped = true
  }

  reset (): void {
    if (!this.open) return
    this.open = false
    this.events?.onClose()
  }

  private probe (): void {
    if (!this.open || this.stopped) {
      this.probing = false
      return
    }
    const started = performance.now()
    this.bypass = true
    let reply: Promise<unknown>
    try {
      reply = this.ping()
    } finally {
      this.bypass = false
    }
    const answered = (): void => {
      this.probing = false
      this.reset()
    }
    reply.then(answered, (err: Error) => {
      // A reply error is still a reply: Redis answers again.
      if (!isCoded(err, 'FST_REDKIT_COMMAND_TIMEOUT') && !isCoded(err, 'FST_REDKIT_UNAVAILABLE') &&
          !isCoded(err, 'FST_REDKIT_OFFLINE_QUEUE_FULL')) {
        answered()
        return
      }
      const wait = Math.max(0, PROBE_RETRY - (performance.now() - started))
      setTimeout(() => this.probe(), wait).unref()
    })
  }
}

/**
 * Wraps sendCommand of a client redkit owns: it bounds the offline queue,
 * arms the command deadline, fails fast while Redis does not answer, turns
 * connection failures into coded errors and counts commands for stats().
 */
export function instrument (client: RedisClient, config: ResolvedConfig, stats: ConnectionStats, events?: BreakerEvents): void {
  const isCluster = client instanceof Cluster
  const breaker = new Breaker(async () => await client.ping(), events)
  // On Cluster the node connections write the commands, so each coalesces its own.
  const coalesce = isCluster ? undefined : writeCoalescer(client)
  const clusterDeadlines = isCluster ? new ClusterDeadlines(config.commandTimeout) : undefined
  if (isCluster) onClusterNode(client, (node: Redis) => patchNode(node, writeCoalescer(node)))
  watchDeadlines(client, config.commandTimeout)
  client.on('ready', () => breaker.reset())
  client.once('end', () => {
    breaker.stop()
    clusterDeadlines?.stop()
  })

  const fail = (command: CommandLike, err: Error): unknown => {
    command.reject(err)
    return command.promise
  }
  /**
   * The command's reject, counting and coding its failure once, whatever
   * rejects it first. Built here, not inline in the interceptor below: built
   * there, a publisher sending a few large PUBLISHes per turn kept 1-2 MB of
   * its commands (arguments, promises, written strings) surviving each
   * scavenge for seconds, about 0.2 MB built here (Node 20, V8 11.3; measured
   * with --trace-gc-nvp), and each surviving byte lengthens the pause.
   */
  const codedReject = (command: CommandLike): ((err: Error) => void) => {
    const reject = command.reject
    let settled = false
    return (err: Error) => {
      if (settled) return
      settled = true
      stats.errors++
      const coded = toRedkitError(err, command.name, config.commandTimeout)
      if (isCoded(coded, 'FST_REDKIT_COMMAND_TIMEOUT')) {
        stats.timeouts++
        if (config.failFast) breaker.trip()
      } else if (config.failFast && isMaxRetriesError(err) && !closing.has(client)) {
        // ioredis ran out of reconnect attempts for this command: Redis is
        // gone, and the next command would wait a whole deadline to learn it.
        breaker.trip()
      }
      reject(coded)
    }
  }
  // Cluster passes a third argument (the target node) for pipelines, so every
  // argument is forwarded as it came.
  interceptSendCommand<CommandLike>(client, (original) => (command, stream?: unknown, ...rest: unknown[]): unknown => {
    // ioredis sends a command again from its offline queue after a reconnect:
    // it keeps the deadline and the reject of its first send.
    if (command.redkitSentAt !== undefined) return original(command, stream, ...rest)
    stats.commands++
    const status = client.status
    // Handshake commands (AUTH, CLIENT SETINFO on older servers) may fail by
    // design; only the app's own commands count as errors.
    if (status === 'connect' && !isCluster) {
      stamp(command)
      return original(command, stream, ...rest)
    }
    if (breaker.open && config.failFast && !breaker.bypass) {
      stats.errors++
      stats.fastFailed++
      return fail(command, new RedkitUnavailableError('Redis is not answering; failing fast until it does'))
    }
    command.reject = codedReject(command)
    if (stream === undefined && status !== 'ready' &&
        offlineQueueLength(client) >= config.maxOfflineQueue) {
      stats.offlineRejected++
      return fail(command, new RedkitOfflineQueueFullError(config.maxOfflineQueue))
    }
    stamp(command)
    if (status === 'ready') coalesce?.()
    if (clusterDeadlines === undefined || stream !== undefined || rest[0] !== undefined) return original(command, stream, ...rest)
    const coreReject = command.reject
    const sent = original(command, stream, ...rest)
    clusterDeadlines.add(command, coreReject)
    return sent
  })
}

export interface ConnectionEvents {
  log: FastifyBaseLogger
  description: string
  stats: ConnectionStats
  redact: (text: string) => string
}

/** Logs connect, loss and recovery once each, not once per retry. */
export function watch (client: RedisClient, { log, description, stats, redact }: ConnectionEvents, role = 'connection'): void {
  let everReady = false
  let lostAt: number | undefined
  let lastError = ''
  client.on('ready', () => {
    if (!everReady) {
      everReady = true
      log.info({ redis: description, role }, 'redkit: connected to Redis')
    } else if (lostAt !== undefined) {
      stats.reconnects++
      log.info({ redis: description, role, downtimeMs: Date.now() - lostAt }, 'redkit: Redis connection recovered')
    }
    lostAt = undefined
  })
  const lost = (): void => {
    if (!everReady || lostAt !== undefined || closing.has(client)) return
    lostAt = Date.now()
    log.warn({ redis: description, role, err: lastError === '' ? undefined : lastError }, 'redkit: Redis connection lost, reconnecting')
  }
  client.on('close', lost)
  client.on('error', (err: Error) => {
    const message = redact(err.message)
    if (message !== lastError && everReady && lostAt === undefined) {
      log.debug({ redis: description, role, err: message }, 'redkit: Redis connection error')
    }
    lastError = message
  })
  if (client instanceof Cluster) {
    client.on('node error', (err: Error) => { lastError = redact(err.message) })
  }
}

/** Connects within the deadline, or disconnects and throws a coded error. */
export async function connect (client: RedisClient, config: ResolvedConfig, description: string, redact: (s: string) => string): Promise<void> {
  if (client.status === 'ready') return
  let lastError = 'no reply'
  const onError = (err: Error): void => { lastError = redact(err.message) }
  client.on('error', onError)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${config.connectTimeout} ms (${lastError})`)), config.connectTimeout)
  })
  // The connect promise can reject before our deadline while ioredis keeps
  // retrying; wait for 'ready' instead so one refused attempt is not final.
  const readyEvent = new Promise<void>((resolve) => client.once('ready', () => resolve()))
  if (client.status === 'wait') client.connect().catch(() => {})
  try {
    await Promise.race([readyEvent, deadline])
  } catch (err) {
    client.disconnect()
    throw new RedkitConnectError(description, redact((err as Error).message))
  } finally {
    clearTimeout(timer)
    client.off('error', onError)
  }
}

/** Quits gracefully so pending replies arrive, with a deadline so close never hangs. */
export async function close (client: RedisClient, timeoutMs: number): Promise<void> {
  closing.add(client)
  if (client.status === 'end' || client.status === 'wait') {
    client.disconnect()
    return
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()))
  try {
    await Promise.race([client.quit().catch(() => {}), deadline])
    client.disconnect()
    await Promise.race([ended, deadline])
  } finally {
    clearTimeout(timer)
  }
}
