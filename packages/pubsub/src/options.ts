import { optionChecker, type OptionChecker } from '@redkit/core/kit'
import { PubsubInvalidOptionError } from './errors.js'

export const DEFAULT_MAX_SIZE = 512 * 1024
export const DEFAULT_MAX_CHANNEL_LENGTH = 256
export const DEFAULT_CONCURRENCY = 1
export const DEFAULT_MAX_PENDING = 10_000
export const DEFAULT_SLOW_HANDLER_MS = 5000
export const DEFAULT_HEARTBEAT_MS = 15_000
export const DEFAULT_STREAM_MAX_LEN = 10_000
export const DEFAULT_STREAM_TTL_MS = 7 * 24 * 3600 * 1000
export const DEFAULT_CLAIM_IDLE_MS = 30_000
export const DEFAULT_STREAM_BATCH = 100
export const DEFAULT_GAP_TRACKING = 10_000

export interface PubsubOptions {
  /** Largest encoded envelope in bytes; bigger messages are refused. */
  maxSize?: number
  /** Longest channel name in characters. */
  maxChannelLength?: number
  /** Default number of messages one handler may process at once. */
  concurrency?: number
  /** Messages queued per handler before the oldest are dropped (and counted). */
  maxPending?: number
  /** A handler slower than this (ms) is logged. */
  slowHandlerMs?: number
  /** Drop messages this instance published itself. */
  skipSelf?: boolean
  /** On Redis Cluster, use SPUBLISH/SSUBSCRIBE. Pattern subscriptions need false. */
  sharded?: boolean
  /** Interval of SSE heartbeat comments in ms. */
  heartbeatMs?: number
  /** How many (channel, publisher) sequence positions a subscription remembers for gap detection, and how many channels' sequence counters a publisher keeps. */
  gapTracking?: number
  /**
   * This process's name among the app's workers, the same across its restarts
   * (e.g. a StatefulSet pod name or `worker-${WORKER_INDEX}`), unique among running
   * processes. Durable-stream consumers default to it, so a restarted worker
   * takes back its own unfinished entries at once.
   */
  worker?: string
}

export interface StreamOptions {
  /** Consumer group; every group receives every message once. */
  group?: string
  /** Consumer name inside the group; defaults to the plugin's `worker`, else the instance id (new on every start). */
  consumer?: string
  /** Approximate length bound (XADD MAXLEN ~). */
  maxLen?: number
  /** Stream key TTL in ms, refreshed on each publish. */
  ttlMs?: number
  /** Pending messages idle this long (ms) are reclaimed from their consumer. */
  claimIdleMs?: number
  /** Entries read per XREADGROUP call. */
  batch?: number
  /** How long XREADGROUP blocks (ms); capped below the command deadline. */
  blockMs?: number
  /** Messages one consumer processes at once. */
  concurrency?: number
  /** Where a new group starts: '$' (new messages) or an id such as '0'. */
  start?: string
  /** Also publish each entry on the pub/sub channel of the same name, for live listeners and SSE. */
  notify?: boolean
}

export interface ResolvedOptions {
  maxSize: number
  maxChannelLength: number
  concurrency: number
  maxPending: number
  slowHandlerMs: number
  skipSelf: boolean
  sharded: boolean
  heartbeatMs: number
  gapTracking: number
  worker: string | undefined
}

export interface ResolvedStreamOptions {
  group: string
  consumer: string
  maxLen: number
  ttlMs: number
  claimIdleMs: number
  batch: number
  blockMs: number
  concurrency: number
  start: string
  notify: boolean
}

export const check: OptionChecker = optionChecker(PubsubInvalidOptionError)

const OPTION_NAMES = ['maxSize', 'maxChannelLength', 'concurrency', 'maxPending', 'slowHandlerMs', 'skipSelf',
  'sharded', 'heartbeatMs', 'gapTracking', 'worker']

export function checkOptions (options?: PubsubOptions): ResolvedOptions {
  const opts = check.options<PubsubOptions>(options, OPTION_NAMES)
  return {
    maxSize: check.integer(opts.maxSize, 'maxSize', 64, 512 * 1024 * 1024, DEFAULT_MAX_SIZE),
    maxChannelLength: check.integer(opts.maxChannelLength, 'maxChannelLength', 1, 65_536, DEFAULT_MAX_CHANNEL_LENGTH),
    concurrency: check.integer(opts.concurrency, 'concurrency', 1, 10_000, DEFAULT_CONCURRENCY),
    maxPending: check.integer(opts.maxPending, 'maxPending', 1, 10_000_000, DEFAULT_MAX_PENDING),
    slowHandlerMs: check.integer(opts.slowHandlerMs, 'slowHandlerMs', 1, 3_600_000, DEFAULT_SLOW_HANDLER_MS),
    skipSelf: check.boolean(opts.skipSelf, 'skipSelf', false),
    sharded: check.boolean(opts.sharded, 'sharded', true),
    heartbeatMs: check.integer(opts.heartbeatMs, 'heartbeatMs', 10, 3_600_000, DEFAULT_HEARTBEAT_MS),
    gapTracking: check.integer(opts.gapTracking, 'gapTracking', 1, 10_000_000, DEFAULT_GAP_TRACKING),
    worker: opts.worker === undefined ? undefined : name(opts.worker, 'worker')
  }
}

const STREAM_OPTION_NAMES = ['group', 'consumer', 'maxLen', 'ttlMs', 'claimIdleMs', 'batch', 'blockMs', 'concurrency',
  'start', 'notify']

/** Stream and group ids: '$', or ms[-seq]. */
export const STREAM_ID = /^(\$|\d{1,20}(-\d{1,20})?)$/
const NAME = /^[^\s{}]{1,200}$/

function name (value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) check.fail(`${what} must be 1 to 200 characters without spaces or braces, got ${JSON.stringify(value)}`)
  return value
}

/** `defaultConsumer` is the plugin's `worker` when set, else the instance id. */
export function checkStreamOptions (options: StreamOptions | undefined, defaultConsumer: string, commandTimeout: number): ResolvedStreamOptions {
  const opts = check.options<StreamOptions>(options, STREAM_OPTION_NAMES, 'stream')
  const group = name(opts.group ?? 'default', 'stream group')
  const consumer = name(opts.consumer ?? defaultConsumer, 'stream consumer')
  const start = opts.start ?? '$'
  if (typeof start !== 'string' || !STREAM_ID.test(start)) check.fail(`stream start must be '$' or a stream id such as '0' or '1700000000000-0', got ${JSON.stringify(start)}`)
  // A blocking read must return before the connection's command deadline fires.
  const blockCap = Math.max(10, commandTimeout - 250)
  return {
    group,
    consumer,
    start,
    maxLen: check.integer(opts.maxLen, 'stream maxLen', 1, 1_000_000_000, DEFAULT_STREAM_MAX_LEN),
    ttlMs: check.integer(opts.ttlMs, 'stream ttlMs', 1000, 10 * 365 * 24 * 3600 * 1000, DEFAULT_STREAM_TTL_MS),
    claimIdleMs: check.integer(opts.claimIdleMs, 'stream claimIdleMs', 10, 24 * 3600 * 1000, DEFAULT_CLAIM_IDLE_MS),
    batch: check.integer(opts.batch, 'stream batch', 1, 10_000, DEFAULT_STREAM_BATCH),
    blockMs: Math.min(blockCap, check.integer(opts.blockMs, 'stream blockMs', 10, 600_000, 1000)),
    concurrency: check.integer(opts.concurrency, 'stream concurrency', 1, 10_000, 1),
    notify: check.boolean(opts.notify, 'stream notify', true)
  }
}
