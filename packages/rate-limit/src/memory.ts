import { ExpiringMap } from '@redkit/core/kit'
import type { Backend, BackendLimit, DecideCallback, Decision } from './backend.js'
import { ALGORITHMS } from './options.js'

interface Fixed { kind: 'fixed', used: number, refused: number, endsAt: number }
interface Counter { kind: 'sliding', start: number, prev: number, curr: number }
interface SlidingLog { kind: 'sliding-log', entries: Array<[number, number]>, used: number }
interface Bucket { kind: 'token-bucket', tat: number }
type State = Fixed | Counter | SlidingLog | Bucket

const EPS = 1e-6

/** The fixed window, the same rules as FIXED_WINDOW in lua.ts. */
function fixed (prev: Fixed | undefined, spec: BackendLimit, now: number, consume: boolean): [Decision, State | undefined, number] {
  const { limit, window, cost } = spec
  const live = prev !== undefined && prev.endsAt > now ? prev : undefined
  const used = live?.used ?? 0
  if (used + cost > limit) {
    const state = live!
    if (consume) {
      state.refused++
      if (spec.onRefusal === 'restart') state.endsAt = now + window
      else if (spec.onRefusal === 'backoff') state.endsAt = now + Math.min(window * 2 ** (state.refused - 1), Number.MAX_SAFE_INTEGER)
    }
    const ttl = state.endsAt - now
    return [{ allowed: false, remaining: limit - used, resetAt: state.endsAt, retryAfter: ttl, now, refused: state.refused }, state, state.endsAt]
  }
  if (!consume) {
    return [{ allowed: true, remaining: limit - used, resetAt: live?.endsAt ?? now, retryAfter: 0, now, refused: live?.refused ?? 0 }, live, live?.endsAt ?? now]
  }
  const next: Fixed = live === undefined
    ? { kind: 'fixed', used: cost, refused: 0, endsAt: now + window }
    : { ...live, used: used + cost }
  return [{ allowed: true, remaining: limit - next.used, resetAt: next.endsAt, retryAfter: 0, now, refused: next.refused }, next, next.endsAt]
}

/** The sliding window counter, the same arithmetic as SLIDING_COUNTER in lua.ts. */
function counter (prev: Counter | undefined, spec: BackendLimit, now: number, consume: boolean): [Decision, State | undefined, number] {
  const { limit, window, cost } = spec
  let start = now
  let p = 0
  let c = 0
  if (prev !== undefined && now - prev.start < 2 * window) {
    start = prev.start
    p = prev.prev
    c = prev.curr
    if (now - start >= window) {
      start += window
      p = c
      c = 0
    }
  }
  const weighted = p * (window - Math.max(0, now - start))
  const allowed = weighted + (c + cost) * window <= limit * window
  let next: Counter | undefined = prev
  if (allowed && consume) {
    c += cost
    next = { kind: 'sliding', start, prev: p, curr: c }
  }
  const expiresAt = next === undefined ? now : next.start + 2 * window
  const remaining = Math.max(0, Math.floor((limit * window - weighted - c * window) / window))
  const resetAt = c > 0 ? start + 2 * window : p > 0 ? start + window : now
  if (allowed) return [{ allowed, remaining, resetAt, retryAfter: 0, now, refused: 0 }, next, expiresAt]
  const room = limit - c - cost
  const retryAt = room < 0
    ? start + window + Math.floor(((c + cost - limit) * window + c - 1) / c)
    : start + Math.floor(((p - room) * window + p - 1) / p)
  return [{ allowed, remaining, resetAt, retryAfter: retryAt - now, now, refused: 0 }, next, expiresAt]
}

function slidingLog (prev: SlidingLog | undefined, spec: BackendLimit, now: number, consume: boolean): [Decision, State | undefined, number] {
  const { limit, window, cost } = spec
  const cutoff = now - window
  const state: SlidingLog = prev ?? { kind: 'sliding-log', entries: [], used: 0 }
  let drop = 0
  while (drop < state.entries.length && state.entries[drop]![0] <= cutoff) {
    state.used -= state.entries[drop]![1]
    drop++
  }
  if (drop > 0) state.entries.splice(0, drop)
  const allowed = state.used + cost <= limit
  if (allowed && consume) {
    state.entries.push([now, cost])
    state.used += cost
  }
  const newest = state.entries.at(-1)
  const resetAt = newest === undefined ? now : newest[0] + window
  const kept = state.entries.length > 0 ? state : undefined
  if (allowed) return [{ allowed, remaining: limit - state.used, resetAt, retryAfter: 0, now, refused: 0 }, kept, resetAt]
  const need = state.used + cost - limit
  let freed = 0
  let retryAt = resetAt
  for (const [at, c] of state.entries) {
    freed += c
    if (freed >= need) {
      retryAt = at + window
      break
    }
  }
  return [{ allowed, remaining: limit - state.used, resetAt, retryAfter: retryAt - now, now, refused: 0 }, kept, resetAt]
}

function bucket (prev: Bucket | undefined, spec: BackendLimit, now: number, consume: boolean): [Decision, State | undefined, number] {
  const { limit, window, cost } = spec
  const interval = window / limit
  let tat = Math.max(prev?.tat ?? now, now)
  const nextTat = tat + cost * interval
  const allowAt = nextTat - window
  const remainingAt = (t: number): number => Math.floor((window - (t - now)) / interval + EPS)
  if (allowAt > now + EPS) {
    return [{ allowed: false, remaining: remainingAt(tat), resetAt: Math.ceil(tat), retryAfter: Math.ceil(allowAt - now), now, refused: 0 }, prev, Math.ceil(tat)]
  }
  if (consume) tat = nextTat
  const state = tat > now ? { kind: 'token-bucket' as const, tat } : undefined
  return [{ allowed: true, remaining: remainingAt(tat), resetAt: Math.ceil(tat), retryAfter: 0, now, refused: 0 }, state, Math.ceil(tat)]
}

/**
 * The embedded backend: the same algorithms as the Lua scripts on the local
 * clock, in a map bounded to `maxKeys` entries (least recently used evicted
 * first) whose entries expire like the Redis keys do.
 */
export class MemoryBackend implements Backend {
  readonly #map: ExpiringMap<string, State>
  readonly #now: () => number
  readonly #sweeper: NodeJS.Timeout

  constructor (maxKeys: number, now: () => number = Date.now, sweepEvery = 10_000) {
    this.#map = new ExpiringMap(maxKeys, now)
    this.#now = now
    this.#sweeper = setInterval(() => this.sweep(), sweepEvery)
    this.#sweeper.unref()
  }

  get size (): number {
    return this.#map.size
  }

  async check (key: string, spec: BackendLimit, consume: boolean): Promise<Decision> {
    return this.decide(key, spec, consume)
  }

  submit (key: string, spec: BackendLimit, consume: boolean, _deadline: number, done: DecideCallback): void {
    done(null, this.decide(key, spec, consume))
  }

  /** Synchronous form, so the store can answer without a promise. */
  decide (key: string, spec: BackendLimit, consume: boolean): Decision {
    const now = Math.floor(this.#now())
    const mapKey = `${spec.algorithm}:${key}`
    const [decision, next, expiresAt] = this.#run(this.#map.get(mapKey), spec, now, consume)
    if (next === undefined) this.#map.delete(mapKey)
    else this.#map.set(mapKey, next, expiresAt)
    return decision
  }

  #run (prev: State | undefined, spec: BackendLimit, now: number, consume: boolean): [Decision, State | undefined, number] {
    switch (spec.algorithm) {
      case 'fixed': return fixed(prev as Fixed | undefined, spec, now, consume)
      case 'sliding': return counter(prev as Counter | undefined, spec, now, consume)
      case 'sliding-log': return slidingLog(prev as SlidingLog | undefined, spec, now, consume)
      case 'token-bucket': return bucket(prev as Bucket | undefined, spec, now, consume)
    }
  }

  async reset (key: string): Promise<void> {
    for (const algorithm of ALGORITHMS) this.#map.delete(`${algorithm}:${key}`)
  }

  sweep (): void {
    this.#map.sweep()
  }

  close (): void {
    clearInterval(this.#sweeper)
    this.#map.clear()
  }
}
