import { finished } from 'node:stream'
import type {
  FastifyReply, FastifyRequest, RouteOptions, preHandlerAsyncHookHandler, onResponseAsyncHookHandler, onRequestAbortAsyncHookHandler,
  onSendAsyncHookHandler
} from 'fastify'
import { LockInvalidOptionError } from './errors.js'
import type { Lock } from './lock.js'
import type { LockManager } from './locks.js'
import { checkInteger, MAX_TTL, type ResolvedLockOptions } from './options.js'

export interface RouteLockOptions {
  /** The lock name for this request; requests with the same key run one at a time. */
  key: (request: FastifyRequest) => string
  /** Lease in ms (extended automatically while the request runs). */
  ttl?: number
  /** How long a request waits for the lock, in ms; 0 means answer at once. */
  timeout?: number
  /** Status when the lock is not acquired in time: 409 or 423. */
  statusCode?: 409 | 423
}

interface ResolvedRouteLock {
  key: (request: FastifyRequest) => string
  ttl: number
  timeout: number
  statusCode: 409 | 423
}

const held = new WeakMap<FastifyRequest, { lock: Lock, stop: () => void }>()

function checkRouteLock (value: RouteLockOptions, route: string, defaults: ResolvedLockOptions): ResolvedRouteLock {
  const where = `config.lock of route ${route}`
  if (typeof value !== 'object' || value === null) throw new LockInvalidOptionError(`${where} must be an object with a key function`)
  if (typeof value.key !== 'function') throw new LockInvalidOptionError(`${where}.key must be a function (request) => string`)
  const statusCode = value.statusCode ?? defaults.statusCode
  if (statusCode !== 409 && statusCode !== 423) throw new LockInvalidOptionError(`${where}.statusCode must be 409 or 423`)
  return {
    key: value.key,
    ttl: checkInteger(value.ttl ?? defaults.ttl, `${where}.ttl`, 10, MAX_TTL),
    timeout: checkInteger(value.timeout ?? defaults.timeout, `${where}.timeout`, 0, MAX_TTL),
    statusCode
  }
}

function asArray<T> (value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

function isStream (payload: unknown): payload is NodeJS.ReadableStream {
  return payload !== null && typeof payload === 'object' && typeof (payload as { pipe?: unknown }).pipe === 'function'
}

async function release (request: FastifyRequest): Promise<void> {
  const entry = held.get(request)
  if (entry === undefined) return
  held.delete(request)
  entry.stop()
  await entry.lock.release().catch((err: Error) => {
    request.log.warn({ lock: entry.lock.name, err: err.message }, '@redkit/lock: could not release route lock; it expires with its lease')
  })
}

/** Adds lock hooks to routes that declare `config: { lock }`; other routes pay nothing. */
export function routeLocks (manager: LockManager, defaults: ResolvedLockOptions): (route: RouteOptions) => void {
  return (route) => {
    const config = (route.config as { lock?: RouteLockOptions } | undefined)?.lock
    if (config === undefined) return
    const opts = checkRouteLock(config, `${String(route.method)} ${route.url}`, defaults)
    const take: preHandlerAsyncHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        const lock = await manager.acquire(opts.key(request), { ttl: opts.ttl, timeout: opts.timeout })
        held.set(request, { lock, stop: manager.keepAlive(lock) })
        request.lock = lock
      } catch (err) {
        const e = err as { code?: string, holderTtl?: number, statusCode?: number }
        if (e.code === 'FST_REDKIT_LOCK_TIMEOUT') {
          const seconds = Math.max(1, Math.ceil((e.holderTtl ?? 0) / 1000))
          reply.header('retry-after', String(seconds))
          e.statusCode = opts.statusCode
        }
        throw err
      }
    }
    // Released before the response is written: a client that sends its next
    // request on receipt, to any instance, must not meet its own lock. A
    // streamed body is still being produced, so it keeps the lock until it ends.
    const sent: onSendAsyncHookHandler = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (isStream(payload)) finished(payload, () => { release(request).catch(() => {}) })
      else await release(request)
      return payload
    }
    const done: onResponseAsyncHookHandler = async (request: FastifyRequest) => { await release(request) }
    const aborted: onRequestAbortAsyncHookHandler = async (request: FastifyRequest) => { await release(request) }
    route.preHandler = [...asArray(route.preHandler), take]
    route.onSend = [...asArray(route.onSend), sent]
    route.onResponse = [...asArray(route.onResponse), done]
    route.onRequestAbort = [...asArray(route.onRequestAbort), aborted]
  }
}
