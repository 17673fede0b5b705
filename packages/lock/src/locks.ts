import type { FastifyBaseLogger } from 'fastify'
import type { AcquireReply, Backend, HolderInfo, LockKind, LockRef } from './backend.js'
import { LockAbortedError, lockLost, lockTimeout, RedisUnavailableError } from './errors.js'
import { Lock, type LockHooks } from './lock.js'
import { newWaiter, sleep, type Waiter } from './wait.js'
import {
  checkAcquireOptions, checkLimit, checkListOptions, checkName, type AcquireOptions, type ResolvedLockOptions
} from './options.js'

export interface LockInfo {
  name: string
  kind: LockKind
  /** The newest holder (the only one for a lock). */
  owner: string
  token: number
  /** Remaining lease of the newest holder, in ms. */
  ttl: number
  /** Every live holder, oldest token first. */
  holders: HolderInfo[]
}

export type LockWork<T> = (signal: AbortSignal, lock: Lock) => T | Promise<T>

/** The same API for a lock and for a semaphore slot. */
export interface LockHandle {
  readonly name: string
  readonly limit: number
  acquire: (opts?: AcquireOptions) => Promise<Lock>
  tryAcquire: (opts?: Omit<AcquireOptions, 'timeout'>) => Promise<Lock | null>
  withLock: <T>(fn: LockWork<T>, opts?: AcquireOptions) => Promise<T>
  isLocked: () => Promise<LockInfo | null>
}

export interface Locks {
  /** Waits up to `timeout` ms for the lock; rejects with LockTimeoutError, RedisUnavailableError or LockAbortedError. */
  acquire: (name: string, opts?: AcquireOptions) => Promise<Lock>
  /** Resolves null at once when the lock is held. */
  tryAcquire: (name: string, opts?: Omit<AcquireOptions, 'timeout'>) => Promise<Lock | null>
  /** Runs fn while holding the lock, extends it meanwhile, aborts the signal if it is lost, and always releases it. */
  withLock: <T>(name: string, fn: LockWork<T>, opts?: AcquireOptions) => Promise<T>
  /** The live holders of a lock, or null when it is free. */
  isLocked: (name: string) => Promise<LockInfo | null>
  /**
   * A page of held locks and semaphores, soonest-ending lease first, read from the
   * registry of held locks (never a SCAN); pass `cursor` back for the next page.
   */
  list: (opts?: ListOptions) => Promise<LockPage>
  /** How many locks and semaphores are held now, without reading them. */
  count: () => Promise<number>
  /** This instance's waiters and held locks, and the state of its wake-up subscription. */
  stats: () => LockStats
  /** A semaphore that admits `limit` holders at once, with the lock API. */
  semaphore: (name: string, limit: number) => LockHandle
}

export interface ListOptions {
  /** The `cursor` of the previous page; omitted or null for the first page. */
  cursor?: string | null
  /** Page size, 1 to 1000; default 100. */
  limit?: number
}

export interface LockPage {
  locks: LockInfo[]
  /** Pass back as `cursor` for the next page; null when the listing is complete. */
  cursor: string | null
}

export interface LockStats {
  /** Callers of this instance waiting for a lock. */
  waiting: number
  /** Locks this instance holds. */
  held: number
  /** False while the release notifications are down (waiters then poll). */
  subscribed: boolean
  /** How often the release notifications failed or were lost (each is logged). */
  subscriptionLosses: number
}

type Refused = Exclude<AcquireReply, string>

function lockInfo (kind: LockKind, name: string, holders: HolderInfo[]): LockInfo {
  holders.sort((a, b) => a.token - b.token)
  const newest = holders[holders.length - 1]!
  return { name, kind, owner: newest.owner, token: newest.token, ttl: newest.ttl, holders }
}

/** Lock refs kept per name, so a name is checked and its keys are built once, not on every acquire. */
const REFS_KEPT = 1024

function lockRef (name: string): LockRef {
  return { kind: 'lock', name: checkName(name), limit: 1 }
}

export class LockManager implements Locks {
  readonly #backend: Backend
  readonly #opts: ResolvedLockOptions
  readonly #log: FastifyBaseLogger
  readonly #instanceId: string
  readonly #waiters = new Map<string, Waiter>()
  readonly #held = new Set<Lock>()
  readonly #closing = new AbortController()
  readonly #hooks: LockHooks = { settled: (lock) => { this.#held.delete(lock) } }
  /** How long a waiter keeps its place in the queue without retrying. */
  readonly #lease: number
  readonly #refs = new Map<string, LockRef>()
  #seq = 0
  #listening = false
  /** The held count above which the next grant drops lost locks; doubles, so sweeps cost O(1) per grant. */
  #sweepAt = 1000

  constructor (backend: Backend, opts: ResolvedLockOptions, log: FastifyBaseLogger, instanceId: string) {
    this.#backend = backend
    this.#opts = opts
    this.#log = log
    // 64 random bits are plenty: holders are told apart by their token, the owner only labels them.
    this.#instanceId = instanceId.replace(/-/g, '').slice(0, 16)
    this.#lease = Math.max(1000, opts.pollInterval * 4)
  }

  // Straight to acquireRef, which checks the name: one async layer per call, and bad input still rejects.
  acquire = (name: string, opts?: AcquireOptions): Promise<Lock> =>
    this.acquireRef(undefined, name, opts, false) as Promise<Lock>

  tryAcquire = (name: string, opts?: Omit<AcquireOptions, 'timeout'>): Promise<Lock | null> =>
    this.acquireRef(undefined, name, opts, true)

  withLock = async <T>(name: string, fn: LockWork<T>, opts?: AcquireOptions): Promise<T> =>
    await this.withRef(this.#lockRef(name), fn, opts)

  isLocked = async (name: string): Promise<LockInfo | null> =>
    await this.inspectRef(this.#lockRef(name))

  list = async (opts?: ListOptions): Promise<LockPage> => {
    const { cursor, limit } = checkListOptions(opts)
    let page: Awaited<ReturnType<Backend['page']>>
    try {
      page = await this.#backend.page(cursor, limit)
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REDKIT_LOCK_INVALID_CURSOR') throw err
      throw new RedisUnavailableError('*', { cause: err })
    }
    return { locks: page.entries.map((e) => lockInfo(e.kind, e.name, e.holders)), cursor: page.cursor }
  }

  count = async (): Promise<number> => {
    try {
      return await this.#backend.count()
    } catch (err) {
      throw new RedisUnavailableError('*', { cause: err })
    }
  }

  stats = (): LockStats => {
    const { subscribed, losses } = this.#backend.wakeUps()
    return { waiting: this.#waiters.size, held: this.#held.size, subscribed, subscriptionLosses: losses }
  }

  semaphore = (name: string, limit: number): LockHandle => {
    const ref: LockRef = { kind: 'semaphore', name: checkName(name), limit: checkLimit(limit) }
    return {
      name: ref.name,
      limit: ref.limit,
      acquire: (opts) => this.acquireRef(ref, ref.name, opts, false) as Promise<Lock>,
      tryAcquire: (opts) => this.acquireRef(ref, ref.name, opts, true),
      withLock: async (fn, opts) => await this.withRef(ref, fn, opts),
      isLocked: async () => await this.inspectRef(ref)
    }
  }

  /** Keeps a lock alive while work runs: extends it every third of its TTL until stopped or lost. */
  keepAlive (lock: Lock): () => void {
    if (lock.degraded) return () => {}
    let stopped = false
    let timer: NodeJS.Timeout | undefined
    const schedule = (): void => {
      if (stopped || lock.lost || lock.released) return
      timer = setTimeout(tick, Math.max(5, Math.floor(lock.ttl / 3)))
      timer.unref()
    }
    const tick = (): void => {
      lock.extend().then(schedule, (err: Error) => {
        // The lock stays held until its lease ends; keep trying until then.
        this.#log.warn({ lock: lock.name, err: err.message }, '@redkit/lock: could not extend lock; retrying')
        schedule()
      })
    }
    schedule()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }

  /** Aborts every wait and releases every held lock, so other instances do not wait for leases to run out. */
  async close (): Promise<void> {
    this.#closing.abort(new LockAbortedError('*', { cause: new Error('the app is closing') }))
    this.#backend.close()
    await Promise.allSettled([...this.#held].map(async (lock) => await lock.release()))
  }

  async inspectRef (ref: LockRef): Promise<LockInfo | null> {
    let holders: HolderInfo[]
    try {
      holders = await this.#backend.inspect(ref)
    } catch (err) {
      throw new RedisUnavailableError(ref.name, { cause: err })
    }
    return holders.length === 0 ? null : lockInfo(ref.kind, ref.name, holders)
  }

  async withRef<T> (ref: LockRef, fn: LockWork<T>, opts?: AcquireOptions): Promise<T> {
    const lock = await this.acquireRef(ref, ref.name, opts, false) as Lock
    const stop = this.keepAlive(lock)
    try {
      const result = await fn(lock.signal, lock)
      if (lock.lost) throw lock.signal.reason
      return result
    } catch (err) {
      if (lock.lost && err !== lock.signal.reason) {
        throw Object.assign(lockLost(ref.name, 'it was lost while the work ran'), { cause: err })
      }
      throw err
    } finally {
      stop()
      await lock.release().catch((err: Error) => {
        this.#log.warn({ lock: ref.name, err: err.message }, '@redkit/lock: could not release lock; it expires with its lease')
      })
    }
  }

  /** Without a ref, `name` is a lock name, checked here. `once` means tryAcquire: never wait, null when held. */
  async acquireRef (known: LockRef | undefined, name: string, opts: AcquireOptions | undefined, once: boolean): Promise<Lock | null> {
    const ref = known ?? this.#lockRef(name)
    const { ttl, timeout, signal } = checkAcquireOptions(opts, this.#opts)
    if (signal?.aborted === true) throw new LockAbortedError(ref.name, { cause: signal.reason })
    const owner = `${this.#instanceId}:${++this.#seq}`
    // A caller that will not wait does not join the queue (and so never has to leave it).
    const queue = !once && timeout > 0
    // Most acquisitions find the lock free, so the first attempt carries no waiter
    // state, unless the subscriber already runs: then the waiter is registered first,
    // so a release published right after this caller joined the queue is not missed.
    const waiter = queue && this.#listening ? this.#register(owner) : undefined
    const sentAt = performance.now()
    let reply: AcquireReply
    try {
      reply = await this.#backend.acquire(ref, owner, ttl, queue ? owner : null, this.#lease)
    } catch (err) {
      if (waiter !== undefined) this.#waiters.delete(owner)
      return this.#unavailable(ref, owner, ttl, err)
    }
    if (typeof reply === 'string') {
      if (waiter !== undefined) this.#waiters.delete(owner)
      return this.#grant(ref, owner, reply, ttl, sentAt)
    }
    if (once) return null
    if (!queue) throw lockTimeout(ref.name, timeout, reply[0])
    return await this.#wait(ref, owner, ttl, timeout, signal, sentAt, reply, waiter ?? this.#register(owner))
  }

  /** Retries until granted, woken by release messages or, failing those, by a timer. */
  async #wait (
    ref: LockRef, owner: string, ttl: number, timeout: number, signal: AbortSignal | undefined,
    started: number, first: Refused, waiter: Waiter
  ): Promise<Lock> {
    let refused = first
    let queued = first[1] === 1
    let granted = false
    this.#listen()
    try {
      for (;;) {
        const left = timeout - (performance.now() - started)
        if (left <= 0) throw lockTimeout(ref.name, timeout, refused[0])
        // Release messages wake the head of the queue at once; the timer is the
        // fallback for lost messages and for leases that simply run out.
        let pause = this.#opts.pollInterval
        if (refused[0] >= 0) pause = Math.min(pause, refused[0] + 1)
        pause = Math.min(Math.max(1, Math.round(pause * (0.9 + Math.random() * 0.2))), left)
        try {
          await sleep(pause, waiter, this.#closing.signal, signal)
        } catch (reason) {
          throw new LockAbortedError(ref.name, { cause: reason })
        }
        const sentAt = performance.now()
        let reply: AcquireReply
        try {
          reply = await this.#backend.acquire(ref, owner, ttl, owner, this.#lease, true)
        } catch (err) {
          return this.#unavailable(ref, owner, ttl, err)
        }
        if (typeof reply === 'string') {
          granted = true
          return this.#grant(ref, owner, reply, ttl, sentAt)
        }
        refused = reply
        queued ||= reply[1] === 1
      }
    } finally {
      this.#waiters.delete(owner)
      if (queued && !granted) this.#leave(ref, owner)
    }
  }

  // Bounded by clearing: an app with more names than this rebuilds refs, as it did on every call before.
  #lockRef (name: string): LockRef {
    let ref = this.#refs.get(name)
    if (ref === undefined) {
      ref = lockRef(name)
      if (this.#refs.size >= REFS_KEPT) this.#refs.clear()
      this.#refs.set(name, ref)
    }
    return ref
  }

  #register (owner: string): Waiter {
    const waiter = newWaiter()
    this.#waiters.set(owner, waiter)
    return waiter
  }

  #leave (ref: LockRef, owner: string): void {
    this.#backend.leave(ref, owner).catch(() => {})
  }

  #grant (ref: LockRef, owner: string, token: string, ttl: number, sentAt: number): Lock {
    const lock = new Lock(ref, owner, token, ttl, sentAt, this.#backend, this.#hooks)
    if (!lock.lost) this.#held.add(lock)
    // Locks that ran out unnoticed and were never released are dropped here.
    if (this.#held.size > this.#sweepAt) {
      for (const l of this.#held) if (l.lost) this.#held.delete(l)
      this.#sweepAt = Math.max(1000, this.#held.size * 2)
    }
    return lock
  }

  #unavailable (ref: LockRef, owner: string, ttl: number, err: unknown): Lock {
    if (this.#opts.onRedisError === 'closed') throw new RedisUnavailableError(ref.name, { cause: err })
    this.#log.warn({ lock: ref.name, err: (err as Error).message },
      '@redkit/lock: Redis is unavailable; running without the lock (onRedisError: open)')
    return new Lock(ref, owner, '0', ttl, performance.now(), null, { settled: () => {} })
  }

  #listen (): void {
    if (this.#listening) return
    this.#listening = true
    this.#backend.listen(
      (id) => { this.#waiters.get(id)?.wake() },
      () => { for (const w of this.#waiters.values()) w.wake() },
      () => this.#waiters.size > 0
    )
  }
}
