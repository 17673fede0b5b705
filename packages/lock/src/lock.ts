import type { Backend, LockKind, LockRef } from './backend.js'
import { member } from './backend.js'
import { lockLost, RedisUnavailableError } from './errors.js'
import { checkInteger, MAX_TTL } from './options.js'

/**
 * Margin kept between the local idea of expiry and the server's: the lease is
 * counted from before the request was sent, minus 1% for clock-rate drift.
 */
export function driftOf (ttl: number): number {
  return Math.floor(ttl * 0.01) + 2
}

const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!
const nativeReason = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!
const nativeThrowIfAborted = AbortSignal.prototype.throwIfAborted

/**
 * Makes `aborted`, `reason` and `throwIfAborted()` of this one signal check the
 * lease first: a timer cannot fire while the event loop is blocked, so without
 * this the signal would read "not aborted" after the lease ran out. It stays a
 * real AbortSignal (fetch, addEventListener and AbortSignal.any accept it).
 */
function checkOnRead (signal: AbortSignal, check: () => void): void {
  Object.defineProperties(signal, {
    aborted: { configurable: true, get () { check(); return nativeAborted.call(signal) } },
    reason: { configurable: true, get () { check(); return nativeReason.call(signal) } },
    throwIfAborted: { configurable: true, writable: true, value () { check(); nativeThrowIfAborted.call(signal) } }
  })
}

export interface LockHooks {
  /** Called once when the lock stops being held (lost or released). */
  settled: (lock: Lock) => void
}

/** A held lock or semaphore slot. */
export class Lock {
  readonly name: string
  readonly kind: LockKind
  /** Fencing token: pass it to the resource you protect and reject writes with a lower token than seen before. */
  readonly token: number
  /** Holder id, "<instance>:<sequence>", where <instance> is the first 16 hex digits of redkit.instanceId. */
  readonly owner: string
  /** True when onRedisError is 'open' and Redis was down: the work runs without a lock and the token is 0. */
  readonly degraded: boolean
  readonly #ref: LockRef
  readonly #backend: Backend | null
  readonly #hooks: LockHooks
  readonly #member: string
  // Created on first use of `signal`: most holders never read it, and then the
  // clock check in `lost` is enough, without a timer per lock.
  #controller: AbortController | undefined
  #lostReason: Error | undefined
  #ttl: number
  #deadline: number
  #timer: NodeJS.Timeout | undefined
  #released = false

  /** `token` is the decimal text the backend replied with. */
  constructor (ref: LockRef, owner: string, token: string, ttl: number, sentAt: number, backend: Backend | null, hooks: LockHooks) {
    this.name = ref.name
    this.kind = ref.kind
    this.token = Number(token)
    this.owner = owner
    this.degraded = backend === null
    this.#ref = ref
    this.#backend = backend
    this.#hooks = hooks
    this.#member = member(token, owner)
    this.#ttl = ttl
    this.#deadline = sentAt + ttl - driftOf(ttl)
  }

  /** When the lease ends, in epoch ms, as a conservative local estimate (never later than the server's expiry). */
  get expiresAt (): number {
    return Math.floor(performance.timeOrigin + this.#deadline)
  }

  /** Aborts with a LockLostError when the lock is lost (its lease ran out, or extend found it taken). */
  get signal (): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      checkOnRead(this.#controller.signal, () => this.#check())
      this.#check()
      if (this.#lostReason !== undefined) this.#controller.abort(this.#lostReason)
      else if (this.#backend !== null && !this.#released) this.#arm()
    }
    return this.#controller.signal
  }

  get lost (): boolean {
    this.#check()
    return this.#lostReason !== undefined
  }

  get released (): boolean {
    return this.#released
  }

  /** Lease length of the last acquire or extend, in ms. */
  get ttl (): number {
    return this.#ttl
  }

  /**
   * Sets the remaining lease to `ms` (default: the last TTL). Resolves false,
   * and aborts the signal, when the lock expired or another holder took it.
   * Rejects with RedisUnavailableError when Redis cannot answer; the lock is then
   * still held until its current lease ends.
   */
  async extend (ms: number = this.#ttl): Promise<boolean> {
    checkInteger(ms, 'extend(ms)', 10, MAX_TTL)
    if (this.#backend === null || this.#released || this.lost) return false
    const sentAt = performance.now()
    let reply: number
    try {
      reply = await this.#backend.extend(this.#ref, this.#member, ms)
    } catch (err) {
      throw new RedisUnavailableError(this.name, { cause: err })
    }
    if (reply <= 0) {
      this.lose('it expired or another holder took it')
      return false
    }
    if (this.#released || this.lost) return false
    this.#ttl = ms
    this.#deadline = sentAt + ms - driftOf(ms)
    if (this.#controller !== undefined) this.#arm()
    return true
  }

  /**
   * Releases the lock. Resolves true when this holder still held it, false when
   * it had expired or was taken (another holder's key is never touched).
   */
  async release (): Promise<boolean> {
    if (this.#backend === null || this.#released) return false
    this.#released = true
    clearTimeout(this.#timer)
    this.#hooks.settled(this)
    try {
      return await this.#backend.release(this.#ref, this.#member) === 1
    } catch (err) {
      throw new RedisUnavailableError(this.name, { cause: err })
    }
  }

  /** Marks the lock as lost and aborts its signal; no-op once released or lost. */
  lose (why: string): void {
    clearTimeout(this.#timer)
    if (this.#lostReason !== undefined) return
    if (!this.#released) this.#hooks.settled(this)
    this.#lostReason = lockLost(this.name, why)
    this.#controller?.abort(this.#lostReason)
  }

  // After a pause (GC, blocked event loop) the expiry timer may not have run
  // yet; reading the signal checks the clock so it is never stale.
  #check (): void {
    if (this.#backend !== null && !this.#released && this.#lostReason === undefined && performance.now() >= this.#deadline) {
      this.lose('its lease ran out before it was extended')
    }
  }

  #arm (): void {
    clearTimeout(this.#timer)
    const left = this.#deadline - performance.now()
    if (left <= 0) {
      this.lose('its lease ran out before it was extended')
      return
    }
    this.#timer = setTimeout(() => this.lose('its lease ran out before it was extended'), left)
    this.#timer.unref()
  }
}
