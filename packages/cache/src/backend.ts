import type { TagRef } from './keys.js'

/** A write of one entry, with its tags and the fill lock it may release. */
export interface WriteOp {
  key: string
  lock: string
  /** Token of the fill lock this writer holds, or '' when it holds none. */
  token: string
  tags: TagRef[]
  /**
   * The tag versions read before the value was produced, one per tag; when
   * any has moved since, the value may predate an invalidation and is not
   * stored. null: record the versions current at the write.
   */
  expected: number[] | null
  payload: string
  ttl: number
  staleTtl: number
}

export interface AcquireResult {
  /** The stored entry, as found once the lock was tried (it may still be invalidated by its tags). */
  value: string | null
  /** True when this caller now holds the fill lock. */
  locked: boolean
}

/**
 * A message telling instances which entries changed: full keys (`k`), every
 * entry under a key prefix (`p`), or, with `t`, the entries under `p` filed
 * under any of those tags.
 */
export interface ChangeMessage {
  i: string
  k?: string[]
  p?: string
  t?: string[]
}

/** What the cache needs from storage; one implementation per redkit mode. */
export interface Backend {
  /** True when several instances share the storage (Redis). */
  readonly shared: boolean
  /** Milliseconds on the storage's clock. */
  now: () => number
  get: (key: string) => Promise<string | null>
  /** The current versions of the tags (0 for a tag never invalidated). */
  versions: (tags: TagRef[]) => Promise<number[]>
  /** False when the value was not stored because a tag moved since `expected` was read. */
  set: (op: WriteOp) => Promise<boolean>
  /** Tries the fill lock, then reads the entry: a value written before the lock was freed is always seen. */
  acquire: (key: string, lock: string, token: string, ttl: number) => Promise<AcquireResult>
  tryLock: (lock: string, token: string, ttl: number) => Promise<boolean>
  /** Whether anyone holds the fill lock (as `locked`), then the entry; takes nothing. */
  peek: (key: string, lock: string) => Promise<AcquireResult>
  release: (key: string, lock: string, token: string) => Promise<void>
  del: (key: string) => Promise<boolean>
  /**
   * Moves each tag to a new version, after which no entry written before is
   * served, and announces it; returns how many live entries were filed under
   * the tags since their last invalidation. Removing those entries is
   * garbage collection the backend may do later.
   */
  invalidate: (tags: TagRef[], entries: string, detached: (tag: string) => string) => Promise<number>
  /** Deletes the entries under `entries + prefix` (with their tag filings); `base` is the namespace's key prefix. */
  clear: (base: string, entries: string, prefix: string) => Promise<number>
  /** Resolves when the entry changes (as announced by any instance) or after ms. */
  wait: (key: string, ms: number) => Promise<void>
  /** Starts listening for changes from other instances; resolves once listening. */
  listen: () => Promise<void>
  /** True while change messages are being received, so an in-process copy can be trusted. */
  coherent: () => boolean
  close: () => Promise<void>
}

export interface BackendEvents {
  /** Another instance changed entries: drop in-process copies. */
  onChange: (message: ChangeMessage) => void
  /** Messages may have been missed: drop every in-process copy. */
  onReset: () => void
}
