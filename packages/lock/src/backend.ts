export type LockKind = 'lock' | 'semaphore'

/** Identifies one lock or semaphore: its kind, name and how many holders it allows. */
export interface LockRef {
  kind: LockKind
  name: string
  limit: number
  /** The backend's cache of this lock's key names, filled on first use. */
  keys?: string[]
  /** The backend's cache of the keys its release script takes. */
  releaseKeys?: string[]
}

/**
 * The token as decimal text when granted (the holder key holds the same text, and
 * 16-digit numbers are slow to format); else [ms until the soonest holder's lease
 * ends, or -1 when no one holds it and earlier waiters are ahead; 1 if the
 * caller is queued, else 0]. This is the lock script's own reply, so the
 * common case needs no conversion.
 */
export type AcquireReply = string | [holderTtl: number, queued: number]

export interface HolderInfo {
  /** "<instance>:<sequence>" of the holder; <instance> is the first 16 hex digits of the app's redkit.instanceId. */
  owner: string
  token: number
  /** Remaining lease in ms. */
  ttl: number
}

/**
 * The storage side of locks. Each call is one atomic step (one Lua round
 * trip on Redis); waiting, timers and Lock objects live above it.
 */
export interface Backend {
  /** `waiter` is null (do not queue) or equal to `owner`; `retry` when an earlier attempt may have queued it. */
  acquire: (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number, retry?: boolean) => Promise<AcquireReply>
  /** 1 when the member still held the lock and was removed, else 0. */
  release: (ref: LockRef, member: string) => Promise<number>
  /** 1 when the member still held the lock and its lease now ends ttl ms from now, else 0. */
  extend: (ref: LockRef, member: string, ttl: number) => Promise<number>
  /** Removes a waiter that gave up. */
  leave: (ref: LockRef, waiter: string) => Promise<void>
  inspect: (ref: LockRef) => Promise<HolderInfo[]>
  /**
   * Up to `limit` held locks and semaphores from `cursor` (null: the start), soonest-ending
   * lease first, and the cursor of the next page (null at the end). One read of the registry
   * per page (per shard it spans), never a SCAN.
   */
  page: (cursor: string | null, limit: number) => Promise<{ entries: HeldEntry[], cursor: string | null }>
  /** How many locks and semaphores are held, from the registry's size. */
  count: () => Promise<number>
  /** Starts delivering wake-ups (lazily, on the first wait); calls wake with a waiter id. `busy`: does anyone wait now? */
  listen: (wake: (waiter: string) => void, wakeAll: () => void, busy: () => boolean) => void
  /** The state of the wake-up subscription. */
  wakeUps: () => { subscribed: boolean, losses: number }
  /** Stops the wake-ups for good (the app is closing). */
  close: () => void
}

export interface HeldEntry {
  kind: LockKind
  name: string
  holders: HolderInfo[]
}

export function member (token: number | string, owner: string): string {
  return `${token}|${owner}`
}

export function parseMember (value: string): { token: number, owner: string } {
  const bar = value.indexOf('|')
  return { token: Number(value.slice(0, bar)), owner: value.slice(bar + 1) }
}
