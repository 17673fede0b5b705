/** A write of one entry, with its tags and the fill lock it may release. */
export interface WriteOp {
  key: string
  lock: string
  /** Token of the fill lock this writer holds, or '' when it holds none. */
  token: string
  tags: string[]
  payload: string
  ttl: number
  staleTtl: number
}

export interface AcquireResult {
  /** The stored entry, when one appeared meanwhile. */
  value: string | null
  /** True when this caller now holds the fill lock. */
  locked: boolean
}

/** A message telling instances which entries changed: full keys, or a key prefix. */
export interface ChangeMessage {
  i: string
  k?: string[]
  p?: string
}

export interface Invalidated {
  deleted: number
  /** Entry keys that were filed under the tags, or null when there were too many to list. */
  keys: string[] | null
}

/** What the cache needs from storage; one implementation per redkit mode. */
export interface Backend {
  /** True when several instances share the storage (Redis). */
  readonly shared: boolean
  /** Milliseconds on the storage's clock. */
  now: () => number
  get: (key: string) => Promise<string | null>
  set: (op: WriteOp) => Promise<void>
  acquire: (key: string, lock: string, token: string, ttl: number) => Promise<AcquireResult>
  tryLock: (lock: string, token: string, ttl: number) => Promise<boolean>
  /** The entry, and (as `locked`) whether anyone holds its fill lock; takes nothing. */
  peek: (key: string, lock: string) => Promise<AcquireResult>
  release: (key: string, lock: string, token: string) => Promise<void>
  del: (keys: string[]) => Promise<number>
  invalidate: (tags: string[], namespacePrefix: string) => Promise<Invalidated>
  clear: (prefix: string) => Promise<number>
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
