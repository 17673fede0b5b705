import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'

/** Calls and failures (by error code) of one kind of operation, with the first few failures in detail. */
export interface OpCount {
  calls: number
  ok: number
  errors: Record<string, number>
  samples: string[]
  /** The slowest call: its duration, and the phase and target it started with. */
  slowest: { ms: number, phase: string, what: string }
}

export class Tally {
  readonly ops = new Map<string, OpCount>()
  /** Calls in flight during each phase (running when it began, or started in it), per operation. */
  readonly phases = new Map<string, Map<string, number>>()
  private readonly inFlight = new Map<string, number>()
  private current = 'steady'
  private readonly started = Date.now()

  get phase (): string { return this.current }
  set phase (phase: string) {
    this.current = phase
    this.phases.set(phase, new Map([...this.inFlight].filter(([, n]) => n > 0)))
  }

  async run<T> (op: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    const count = this.count(op)
    count.calls++
    const phase = this.phases.get(this.phase) ?? new Map<string, number>()
    phase.set(op, (phase.get(op) ?? 0) + 1)
    this.phases.set(this.phase, phase)
    this.inFlight.set(op, (this.inFlight.get(op) ?? 0) + 1)
    const startedIn = this.phase
    const started = performance.now()
    try {
      const result = await fn()
      count.ok++
      return result
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'uncoded'
      count.errors[code] = (count.errors[code] ?? 0) + 1
      if (count.samples.length < 5) {
        const cause = (err as { cause?: Error }).cause
        count.samples.push(`+${Date.now() - this.started} ms [${this.phase}] ${what}: ${code} ${(err as Error).message}` +
          (cause !== undefined ? ` (cause: ${cause.message})` : ''))
      }
      return undefined
    } finally {
      this.inFlight.set(op, this.inFlight.get(op)! - 1)
      const ms = Math.round(performance.now() - started)
      if (ms > count.slowest.ms) count.slowest = { ms, phase: startedIn, what }
    }
  }

  count (op: string): OpCount {
    let count = this.ops.get(op)
    if (count === undefined) {
      count = { calls: 0, ok: 0, errors: {}, samples: [], slowest: { ms: 0, phase: '', what: '' } }
      this.ops.set(op, count)
    }
    return count
  }

  lines (): string[] {
    return [...this.ops].map(([op, c]) => {
      const errors = Object.entries(c.errors).map(([code, n]) => `${code}=${n}`).join(' ') || 'none'
      const slowest = `slowest ${c.slowest.ms} ms (${c.slowest.what}, started ${c.slowest.phase})`
      return `${op.padEnd(18)} calls=${c.calls} ok=${c.ok} failures: ${errors}; ${slowest}`
    })
  }

  phaseLines (): string[] {
    return [...this.phases].map(([phase, ops]) => `${phase.padEnd(10)} ${[...ops].map(([op, n]) => `${op}=${n}`).join(' ')}`)
  }

  /** Calls in flight during a phase, over the operations whose name starts with `op`. */
  callsIn (phase: string, op = ''): number {
    return [...(this.phases.get(phase) ?? [])].filter(([name]) => name.startsWith(op)).reduce((sum, [, n]) => sum + n, 0)
  }

  failures (): string[] {
    return [...this.ops].flatMap(([op, c]) => c.samples.map((s) => `${op} ${s}`))
  }
}

export const LOCKS = ['topo-a', 'topo-b', 'topo-c']
/** Limits that run out at different moments of the run, some while the topology changes. */
export const RATE_LIMITS = new Map([['topo-rl-a', 60], ['topo-rl-b', 120], ['topo-rl-c', 150]])
export const RATE_KEYS = [...RATE_LIMITS.keys()]
export const RATE_WINDOW = 300_000
export const SESSIONS = Array.from({ length: 6 }, (_, i) => `topo-session-${i}`)
export const CACHE_KEYS = Array.from({ length: 8 }, (_, i) => `item-${i}`)
export const CHANNEL = 'topo-events'
export const NAMESPACE = 'topo'

export function sessionOf (i: number, n: number): object {
  return { cookie: { originalMaxAge: 3_600_000, expires: new Date(Date.now() + 3_600_000), httpOnly: true, path: '/' }, userId: `user-${i}`, n }
}

/** What the load checks as it runs; every field should stay empty or consistent. */
export class Invariants {
  // Locks, per name: holders at once, the last fencing token, the counter the holders increment, successful calls.
  holders = new Map<string, number>()
  lastToken = new Map<string, number>()
  counters = new Map<string, number>()
  lockSuccesses = new Map<string, number>()
  overlaps: string[] = []
  tokenRegressions: string[] = []
  // Rate limit, per key and algorithm: checks answered, checks allowed.
  checks = new Map<string, number>()
  allowed = new Map<string, number>()
  // Cache: the source of truth and the version every read that starts after an invalidate/set resolved must see.
  truth = new Map<string, number>()
  floor = new Map<string, number>()
  staleReads: string[] = []
  // Sessions: the last n written per session, acknowledged.
  sessionFloor = new Map<string, number>()
  sessionStale: string[] = []
  // Pub/sub: publish calls per app; each takes the next sequence number.
  published = [0, 0]
  /** Per app and sequence number: the phase the publish started in and how many connections Redis said received it. */
  publishes = [new Map<number, string>(), new Map<number, string>()]
}

interface Ctx { apps: FastifyInstance[], tally: Tally, inv: Invariants, running: () => boolean }

async function lockStep (ctx: Ctx, w: number, n: number): Promise<void> {
  const { apps, tally, inv } = ctx
  const name = LOCKS[(w + n) % LOCKS.length]!
  const app = apps[(w + n) % apps.length]!
  const done = await tally.run('lock.withLock', name, async () => await app.locks.withLock(name, async (_signal, lock) => {
    const holders = (inv.holders.get(name) ?? 0) + 1
    inv.holders.set(name, holders)
    if (holders > 1) inv.overlaps.push(`${name} token ${lock.token}`)
    const last = inv.lastToken.get(name) ?? 0
    if (lock.token <= last) inv.tokenRegressions.push(`${name}: ${lock.token} after ${last}`)
    inv.lastToken.set(name, Math.max(last, lock.token))
    const value = inv.counters.get(name) ?? 0
    await sleep(2)
    inv.counters.set(name, value + 1)
    inv.holders.set(name, (inv.holders.get(name) ?? 1) - 1)
    return true
  }, { ttl: 5000, timeout: 8000 }))
  if (done === true) inv.lockSuccesses.set(name, (inv.lockSuccesses.get(name) ?? 0) + 1)
}

async function rateStep (ctx: Ctx, w: number, n: number): Promise<void> {
  const key = RATE_KEYS[(w + n) % RATE_KEYS.length]!
  const app = ctx.apps[n % ctx.apps.length]!
  const decision = await ctx.tally.run('limiter.check', key, async () => await app.limiter.check(key, {
    limit: RATE_LIMITS.get(key)!, window: RATE_WINDOW, algorithm: n % 2 === 0 ? 'fixed' : 'sliding', onRedisError: 'closed', deadline: 6000
  }))
  // Each algorithm keeps its own state: count them apart.
  if (decision !== undefined) {
    const k = `${key}:${n % 2 === 0 ? 'fixed' : 'sliding'}`
    ctx.inv.checks.set(k, (ctx.inv.checks.get(k) ?? 0) + 1)
    if (decision.allowed) ctx.inv.allowed.set(k, (ctx.inv.allowed.get(k) ?? 0) + 1)
  }
}

function checkRead (inv: Invariants, key: string, floor: number, value: unknown, via: string): void {
  const v = (value as { v?: number } | undefined)?.v
  if (v !== undefined && v < floor) inv.staleReads.push(`${via} ${key}: read v${v} after v${floor} was published`)
}

/** Keys 0-3 change through invalidate (wrap reads them); keys 4-7 through set by one writer each (get reads them). */
async function cacheStep (ctx: Ctx, w: number, n: number): Promise<void> {
  const { apps, tally, inv } = ctx
  const app = apps[(w + n) % apps.length]!
  const cache = app.cache.ns(NAMESPACE)
  const i = (w * 3 + n) % CACHE_KEYS.length
  const key = CACHE_KEYS[i]!
  const floor = inv.floor.get(key) ?? 0
  if (i < 4) {
    if (n % 4 === 0) {
      const version = (inv.truth.get(key) ?? 0) + 1
      inv.truth.set(key, version)
      const ok = await tally.run('cache.invalidate', key, async () => await cache.invalidate({ tags: [`tag-${key}`] }))
      if (ok !== undefined) inv.floor.set(key, Math.max(inv.floor.get(key) ?? 0, version))
    } else {
      const value = await tally.run('cache.wrap', key, async () => await cache.wrap(key, async () => ({ v: inv.truth.get(key) ?? 0 }), { ttl: 60_000, tags: [`tag-${key}`] }))
      checkRead(inv, key, floor, value, 'wrap')
    }
  } else if (i % 2 === w % 2 && n % 3 === 0) {
    // One writer per key (workers of the key's parity, one at a time through a per-key flag) keeps sets in order.
    if (writing.has(key)) return
    writing.add(key)
    const version = (inv.truth.get(key) ?? 0) + 1
    inv.truth.set(key, version)
    const ok = await tally.run('cache.set', key, async () => { await cache.set(key, { v: version }, { ttl: 60_000, tags: ['set-keys'] }); return true })
    if (ok === true) inv.floor.set(key, Math.max(inv.floor.get(key) ?? 0, version))
    writing.delete(key)
  } else {
    const value = await tally.run('cache.get', key, async () => await cache.get(key))
    checkRead(inv, key, floor, value, 'get')
  }
}
const writing = new Set<string>()

async function sessionStep (ctx: Ctx, w: number, n: number): Promise<void> {
  const { apps, tally, inv } = ctx
  const i = w % SESSIONS.length
  const id = SESSIONS[i]!
  const store = apps[n % apps.length]!.sessions.store
  if (n % 2 === 0 && w < SESSIONS.length) {
    const next = (inv.sessionFloor.get(id) ?? 0) + 1
    const ok = await tally.run('session.set', id, async () => { await store.set(id, sessionOf(i, next)); return true })
    if (ok === true) inv.sessionFloor.set(id, next)
  } else {
    const floor = inv.sessionFloor.get(id) ?? 0
    const data = await tally.run('session.get', id, async () => await store.get(id))
    if (data === null) inv.sessionStale.push(`${id}: missing`)
    else if (data !== undefined && (data as { n: number }).n < floor) inv.sessionStale.push(`${id}: n=${(data as { n: number }).n} after ${floor}`)
  }
}

async function publishStep (ctx: Ctx, w: number, n: number): Promise<void> {
  const a = w % ctx.apps.length
  // One publisher per app, so each app's sequence numbers follow its publishes.
  if (w >= ctx.apps.length) return
  const seq = ++ctx.inv.published[a]!
  const phase = ctx.tally.phase
  const receivers = await ctx.tally.run('pubsub.publish', CHANNEL, async () => await ctx.apps[a]!.pubsub.publish(CHANNEL, { app: a, n }))
  ctx.inv.publishes[a]!.set(seq, `published while ${phase}, ${receivers ?? 'failed'} receivers`)
}

const STEPS = [lockStep, rateStep, cacheStep, sessionStep, publishStep]

/** Runs `workers` loops of every operation until stopped. */
export function startLoad (apps: FastifyInstance[], tally: Tally, inv: Invariants, workers: number): { stop: () => Promise<void> } {
  const state = { running: true }
  const ctx: Ctx = { apps, tally, inv, running: () => state.running }
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; state.running; n++) {
      for (const step of STEPS) await step(ctx, w, n)
      await sleep(5)
    }
  })
  return {
    stop: async () => {
      state.running = false
      await Promise.all(loops)
    }
  }
}
