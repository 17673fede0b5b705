import type { Algorithm } from './options.js'

/** The outcome of one check. Times are epoch ms on the backend's clock (Redis TIME in Redis mode). */
export interface Decision {
  allowed: boolean
  /** Units left after this request. */
  remaining: number
  /** When the limit is fully available again. */
  resetAt: number
  /** Ms until a request of the same cost can pass; 0 when allowed. */
  retryAfter: number
  /** The backend's clock at the decision. */
  now: number
  /** Requests refused in the open fixed window, this one included; 0 for the other algorithms. */
  refused: number
}

/** What a refused request does to a fixed window: nothing, restart it, or double it per refusal. */
export type OnRefusal = 'keep' | 'restart' | 'backoff'

export interface BackendLimit {
  limit: number
  window: number
  algorithm: Algorithm
  cost: number
  /** Fixed window only; 'keep' when absent. */
  onRefusal?: OnRefusal
}

export type DecideCallback = (err: Error | null, decision?: Decision) => void

/** One storage of limit state; `key` is already normalised (see storedKey). */
export interface Backend {
  check: (key: string, spec: BackendLimit, consume: boolean) => Promise<Decision>
  /**
   * The callback form of check(), for the request path (no promise per check).
   * `done` is called exactly once: synchronously in memory; on Redis with the
   * reply, or FST_REDKIT_RATE_LIMIT_DEADLINE once `deadline` ms pass (0 = none).
   */
  submit: (key: string, spec: BackendLimit, consume: boolean, deadline: number, done: DecideCallback) => void
  reset: (key: string) => Promise<void>
  close: () => void
}
