import type { FastifyBaseLogger } from 'fastify'
import type { Backend, Decision } from './backend.js'
import { RateLimitDeadlineError, RateLimitUnavailableError } from './errors.js'
import { storedKey } from './keys.js'
import { resolveLimit, type LimitOptions, type ResolvedLimit, type ResolvedPluginOptions } from './options.js'

export interface RateLimitDecision extends Decision {
  limit: number
  /** True when Redis failed and a fail-open limit let the request through unchecked. */
  degraded: boolean
}

export interface RateLimitMetrics {
  checks: number
  allowed: number
  denied: number
  /** Requests let through unchecked because Redis failed or missed the deadline. */
  failedOpen: number
  /** Requests refused with 503 because Redis failed or missed the deadline. */
  failedClosed: number
  /** Checks abandoned at the deadline (a subset of the two above). */
  deadlineMisses: number
}

export type DecisionCallback = (err: Error | null, decision?: RateLimitDecision) => void

/** Error thrown by fail-closed limits; Fastify turns it into 503 with Retry-After. */
export type UnavailableError = InstanceType<typeof RateLimitUnavailableError> & { headers: Record<string, string> }

const LOG_EVERY_MS = 10_000
/** Connection states in which a command cannot be answered soon, so waiting for the deadline is pointless. */
const DOWN = new Set(['end', 'close', 'reconnecting'])

async function withDeadline<T> (work: Promise<T>, ms: number): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RateLimitDeadlineError(ms)), ms)
    work.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (err: unknown) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

export class Limiter {
  readonly metrics: RateLimitMetrics = { checks: 0, allowed: 0, denied: 0, failedOpen: 0, failedClosed: 0, deadlineMisses: 0 }
  readonly backend: Backend
  readonly options: ResolvedPluginOptions
  /** Root stores created for @fastify/rate-limit registrations, to namespace each apart. */
  stores = 0
  readonly #log: FastifyBaseLogger
  readonly #status: () => string
  #lastLog = 0
  #suppressed = 0

  constructor (backend: Backend, options: ResolvedPluginOptions, log: FastifyBaseLogger, status: () => string) {
    this.backend = backend
    this.options = options
    this.#log = log
    this.#status = status
  }

  resolve (opts?: LimitOptions): ResolvedLimit {
    return resolveLimit(opts, this.options.defaults)
  }

  storedKey (key: string): string {
    return storedKey(key, this.options.maxKeyLength)
  }

  /**
   * Not async, like run(): each async layer would cost a promise and a
   * microtask per check, and check() is called on the request path.
   */
  check (key: string, opts?: LimitOptions): Promise<RateLimitDecision> {
    return this.start(key, opts, true)
  }

  peek (key: string, opts?: LimitOptions): Promise<RateLimitDecision> {
    return this.start(key, opts, false)
  }

  /** A bad key or bad options reject the promise, as from an async function. */
  private start (key: string, opts: LimitOptions | undefined, consume: boolean): Promise<RateLimitDecision> {
    try {
      return this.run(this.storedKey(key), this.resolve(opts), consume)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async reset (key: string, deadline = this.options.defaults.deadline): Promise<void> {
    await withDeadline(this.backend.reset(this.storedKey(key)), deadline)
  }

  /** Runs one decision on an already normalised key and resolved limit. */
  run (key: string, spec: ResolvedLimit, consume: boolean): Promise<RateLimitDecision> {
    return new Promise<RateLimitDecision>((resolve, reject) => {
      this.decide(key, spec, consume, (err, decision) => {
        if (err !== null) reject(err)
        else resolve(decision!)
      })
    })
  }

  /**
   * The callback form of run(), used on the request path: no promise and no
   * timer of its own per check (the Redis backend shares deadline timers).
   * `done` is called exactly once; synchronously in memory mode.
   */
  decide (key: string, spec: ResolvedLimit, consume: boolean, done: DecisionCallback): void {
    if (consume) this.metrics.checks++
    const status = this.#status()
    if (DOWN.has(status)) {
      this.fail(new RateLimitUnavailableError(`Redis connection is ${status}`), spec, done)
      return
    }
    this.backend.submit(key, spec, consume, spec.deadline, (err, d) => {
      if (err !== null) this.fail(err, spec, done)
      else done(null, this.count(d!, spec, consume))
    })
  }

  count (d: Decision, spec: ResolvedLimit, consume: boolean): RateLimitDecision {
    if (consume) d.allowed ? this.metrics.allowed++ : this.metrics.denied++
    // Spelled out: a spread with added properties takes V8's slow generic copy, per request.
    return { allowed: d.allowed, remaining: d.remaining, resetAt: d.resetAt, retryAfter: d.retryAfter, now: d.now, refused: d.refused, limit: spec.limit, degraded: false }
  }

  fail (err: Error & { code?: string }, spec: ResolvedLimit, done: DecisionCallback): void {
    if (err.code === 'FST_REDKIT_RATE_LIMIT_DEADLINE') this.metrics.deadlineMisses++
    this.logFailure(err, spec.onRedisError)
    if (spec.onRedisError === 'open') {
      this.metrics.failedOpen++
      const now = Date.now()
      done(null, { allowed: true, remaining: spec.limit - spec.cost, resetAt: now + spec.window, retryAfter: 0, now, refused: 0, limit: spec.limit, degraded: true })
      return
    }
    this.metrics.failedClosed++
    done(this.unavailable(err))
  }

  unavailable (err: Error): UnavailableError {
    const error = new RateLimitUnavailableError(err.message) as UnavailableError
    error.headers = { 'retry-after': String(this.options.unavailableRetryAfter) }
    return error
  }

  logFailure (err: Error & { code?: string }, mode: string): void {
    const now = Date.now()
    if (now - this.#lastLog < LOG_EVERY_MS) {
      this.#suppressed++
      return
    }
    this.#log.warn({ err: { message: err.message, code: err.code }, failMode: mode, suppressed: this.#suppressed },
      'redkit rate-limit: Redis check failed; applying the fail mode')
    this.#lastLog = now
    this.#suppressed = 0
  }
}
