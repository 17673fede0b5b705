import type { Redkit } from '@redkit/core'
import { TurnQueue } from '@redkit/core/kit'
import type { Backend, BackendLimit, DecideCallback, Decision, OnRefusal } from './backend.js'
import { RateLimitDeadlineError } from './errors.js'
import { FIXED_WINDOW, SLIDING_COUNTER, SLIDING_LOG, TOKEN_BUCKET } from './lua.js'
import { ALGORITHMS, type Algorithm } from './options.js'

/** Script reply: allowed (1|0), remaining, resetAt, retryAfter, now, refused. */
export type Reply = [number, number, number, number, number, number]

/**
 * The timer functions as loaded: an app's fake timers (node:test's
 * mock.timers, sinon) must neither stall a deadline's judgement nor fire
 * deadlines that are about real time.
 */
const { setImmediate: soon, setTimeout: after, clearTimeout: cancel } = globalThis

/** Identical checks decided by one script call at most; bounds the time one call holds Redis. */
export const MAX_TOGETHER = 16

type Script = (keys: string[], args: Array<string | number>) => Promise<unknown>
/** A script's keys travel at the head of the flat argument list (see send), so none are passed apart. */
const NO_KEYS: string[] = []

interface ScriptInfo { name: string, lua: string, suffixes: readonly string[] }

const REFUSAL_ARG: Record<OnRefusal, string> = { keep: 'k', restart: 'c', backoff: 'e' }

const SCRIPTS: Record<Algorithm, ScriptInfo> = {
  fixed: { name: 'redkitRateLimitFixedWindow', lua: FIXED_WINDOW, suffixes: [':fh'] },
  sliding: { name: 'redkitRateLimitSlidingCounter', lua: SLIDING_COUNTER, suffixes: [':w'] },
  'sliding-log': { name: 'redkitRateLimitSlidingLog', lua: SLIDING_LOG, suffixes: [':s', ':sm'] },
  'token-bucket': { name: 'redkitRateLimitTokenBucket', lua: TOKEN_BUCKET, suffixes: [':t'] }
}

/** One queued check: the script's name and its full argument list (keys, then ARGV). */
interface Pending {
  name: string
  argv: Array<string | number>
  /** What makes two checks identical: the stored key, the limit and consume. */
  key: string
  spec: BackendLimit
  consume: boolean
  done: DecideCallback
  settled: boolean
  group: Group | undefined
  /** Deadline in ms, counted from the write; 0 = none. */
  deadline: number
}

/** Checks written together that share one deadline timer. */
interface Group {
  items: Pending[]
  open: number
  timer: NodeJS.Timeout | undefined
  /** When the group's timer was (re)armed. */
  armedAt: number
  /** Times the deadline was extended because Redis was answering. */
  extended: number
  progress: Progress
}

/** When this connection last got a reply to a check. */
interface Progress { at: number }

/**
 * Most times a deadline is extended while Redis keeps answering the checks
 * written before: bounds the wait behind a backlog to (1 + this) deadlines.
 */
export const MAX_EXTENSIONS = 9

/**
 * The Redis backend. Keys are `<prefix>rl:{<key>}:<suffix>`; the hash tag
 * keeps every key of one limit in one Cluster slot.
 *
 * Checks made in one event-loop turn are sent together (one socket write on
 * a single Redis) and share one deadline timer per deadline value, instead of
 * one timer per check. The deadline is Redis's: it starts when the checks
 * are written, and a check it catches is failed only after the event loop
 * has read the replies already waiting on the socket, so time the instance
 * spent busy elsewhere never counts against Redis. Identical checks of one turn (a burst from one client)
 * go in one script call that decides each in turn, as separate calls at the
 * same server time would.
 */
export class RedisBackend implements Backend {
  readonly #redkit: Redkit
  readonly #commands: Record<string, Script>
  readonly #keyStart: string
  readonly #queue = new TurnQueue<Pending>((batch) => { this.#flush(batch) }, { written: (batch) => { this.#watchAll(batch) } })
  #groups = new Map<number, Group>()
  readonly #progress: Progress = { at: 0 }

  constructor (redkit: Redkit) {
    this.#redkit = redkit
    this.#keyStart = redkit.key('rl', '{')
    this.#commands = {}
    for (const algorithm of ALGORITHMS) {
      const { name, lua, suffixes } = SCRIPTS[algorithm]
      this.#commands[name] = redkit.defineScript<Reply>(name, lua, suffixes.length)
    }
  }

  /** The key(s) of one algorithm's state, in script order. */
  keysOf (key: string, algorithm: Algorithm): string[] {
    const base = this.#keyStart + key + '}'
    return SCRIPTS[algorithm].suffixes.map((suffix) => base + suffix)
  }

  async check (key: string, spec: BackendLimit, consume: boolean): Promise<Decision> {
    return await new Promise<Decision>((resolve, reject) => {
      this.send(key, spec, consume, 0, (err, decision) => {
        if (err !== null) reject(err)
        else resolve(decision!)
      })
    })
  }

  submit (key: string, spec: BackendLimit, consume: boolean, deadline: number, done: DecideCallback): void {
    this.send(key, spec, consume, deadline, done)
  }

  /**
   * Queues one check; `done` is called once, with the reply or with an error
   * (FST_REDKIT_RATE_LIMIT_DEADLINE when `deadline` ms pass first; 0 = none).
   */
  send (key: string, spec: BackendLimit, consume: boolean, deadline: number, done: DecideCallback): void {
    // Stored keys never contain braces (see storedKey), so the tag is the key itself.
    const base = this.#keyStart + key + '}'
    const { name, suffixes } = SCRIPTS[spec.algorithm]
    const refusal = REFUSAL_ARG[spec.onRefusal ?? 'keep']
    const argv = suffixes.length === 1
      ? [base + suffixes[0]!, spec.limit, spec.window, spec.cost, consume ? 1 : 0, refusal]
      : [base + suffixes[0]!, base + suffixes[1]!, spec.limit, spec.window, spec.cost, consume ? 1 : 0, refusal]
    const item: Pending = { name, argv, key, spec, consume, done, settled: false, group: undefined, deadline }
    this.#queue.push(item)
  }

  /** Adds the written check to this turn's group for its deadline, arming the group's one timer. */
  #watch (item: Pending): void {
    const deadline = item.deadline
    if (deadline <= 0 || item.settled) return
    let group = this.#groups.get(deadline)
    if (group === undefined) {
      const created: Group = { items: [], open: 0, timer: undefined, armedAt: performance.now(), extended: 0, progress: this.#progress }
      created.timer = after(() => { expire(created, deadline) }, deadline)
      this.#groups.set(deadline, created)
      group = created
    }
    group.items.push(item)
    group.open++
    item.group = group
  }

  /**
   * Sends the checks queued during one event-loop turn, across requests. Core
   * writes the commands of one turn together (one system call on a single
   * Redis), while each stays its own atomic script with its own reply.
   */
  #flush (batch: Pending[]): void {
    if (batch.length === 1) {
      this.#single(batch[0]!)
    } else {
      for (const same of sameChecks(batch)) {
        if (same.length === 1) this.#single(same[0]!)
        else this.#together(same)
      }
    }
  }

  /** The queue wrote the batch's commands: their deadlines start now. */
  #watchAll (batch: Pending[]): void {
    for (const item of batch) this.#watch(item)
    this.#groups.clear()
  }

  #single (item: Pending): void {
    this.#commands[item.name]!(NO_KEYS, item.argv).then(
      (reply) => {
        this.#progress.at = performance.now()
        settle(item, null, decisionOf(reply as Reply))
      },
      (err: Error) => { settle(item, err) })
  }

  /** Identical checks in one script call; it replies with each decision in turn. */
  #together (items: Pending[]): void {
    const { name, argv } = items[0]!
    this.#commands[name]!(NO_KEYS, [...argv, items.length]).then(
      (reply) => {
        this.#progress.at = performance.now()
        // Five numbers per check, then the server time they share.
        const flat = reply as number[]
        const now = flat[flat.length - 1]!
        for (let i = 0, at = 0; i < items.length; i++, at += 5) {
          settle(items[i]!, null, { allowed: flat[at] === 1, remaining: flat[at + 1]!, resetAt: flat[at + 2]!, retryAfter: flat[at + 3]!, now, refused: flat[at + 4]! })
        }
      },
      (err: Error) => { for (const item of items) settle(item, err) })
  }

  async reset (key: string): Promise<void> {
    const keys = ALGORITHMS.flatMap((algorithm) => this.keysOf(key, algorithm))
    await this.#redkit.client!.del(...keys)
  }

  close (): void {}
}

/**
 * The batch split into runs of identical checks (same script, key, limit and
 * consume), in arrival order, each at most MAX_TOGETHER long so one script
 * call stays short.
 */
function sameChecks (batch: Pending[]): Pending[][] {
  const runs = new Map<string, Pending[]>()
  const out: Pending[][] = []
  for (const item of batch) {
    let run = runs.get(item.key)
    const first = run?.[0]
    if (run === undefined || run.length >= MAX_TOGETHER || !sameLimit(first!, item)) {
      run = []
      runs.set(item.key, run)
      out.push(run)
    }
    run.push(item)
  }
  return out
}

function sameLimit (a: Pending, b: Pending): boolean {
  const x = a.spec
  const y = b.spec
  return a.consume === b.consume && (x === y ||
    (x.algorithm === y.algorithm && x.limit === y.limit && x.window === y.window && x.cost === y.cost &&
      x.onRefusal === y.onRefusal))
}

function settle (item: Pending, err: Error | null, decision?: Decision): void {
  if (item.settled) return
  item.settled = true
  const group = item.group
  if (group !== undefined && --group.open === 0) cancel(group.timer)
  item.done(err, decision)
}

/**
 * The timer fires in the timers phase, before the event loop reads the
 * sockets: when the instance was busy, replies Redis sent in time may still
 * be unread. The checks are judged one phase later, after that read. The
 * deadline is extended (at most MAX_EXTENSIONS times) when Redis answered
 * other checks since the timer was armed (it is working through a backlog,
 * not stalled) or when the timer itself fired late by more than half the
 * deadline (the instance, not Redis, was stalled). A paused or stuck Redis
 * answers nothing and an idle instance fires on time, so its checks fail at
 * the first deadline.
 */
function expire (group: Group, deadline: number): void {
  // A timer that fires late measures the instance's own stall (a busy loop, a descheduled process).
  const late = performance.now() - group.armedAt - deadline
  soon(() => {
    if (group.open === 0) return
    const stalled = late > deadline / 2
    if ((stalled || group.progress.at > group.armedAt) && group.extended < MAX_EXTENSIONS) {
      group.extended++
      group.armedAt = performance.now()
      group.timer = after(() => { expire(group, deadline) }, deadline)
      return
    }
    for (const item of group.items) {
      if (!item.settled) settle(item, new RateLimitDeadlineError(deadline))
    }
  })
}

export function decisionOf (reply: Reply): Decision {
  return { allowed: reply[0] === 1, remaining: reply[1], resetAt: reply[2], retryAfter: reply[3], now: reply[4], refused: reply[5] }
}
