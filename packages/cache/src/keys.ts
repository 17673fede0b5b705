import { isNamespace } from './options.js'
import { CacheInvalidArgumentError } from './errors.js'
import { emptyCounters, type Counters } from './stats.js'

/** How long a tag version outlives its last invalidation, so that a slow fill begun before it is still refused. */
export const VERSION_FLOOR = 24 * 3600 * 1000

/** The keys of one tag: its member set (for garbage collection) and its version counter. */
export interface TagRef {
  name: string
  /** Sorted set of the entry keys filed under the tag, scored by their expiry. */
  set: string
  /** Counter bumped by each invalidation; entries record it when written. */
  version: string
}

/**
 * Where one namespace's data lives. Every key shares the hash tag `{ns}`, so
 * any script over several of them runs on one Cluster slot.
 */
export class NamespaceKeys {
  readonly counters: Counters = emptyCounters()
  /** `<prefix>cache:{ns}:` */
  readonly base: string
  /** Prefix of every entry key. */
  readonly entries: string

  constructor (readonly ns: string, appPrefix: string) {
    if (!isNamespace(ns)) throw new CacheInvalidArgumentError(`namespace must be 1-64 characters of A-Z a-z 0-9 _ . -, got ${JSON.stringify(ns)}`)
    this.base = `${appPrefix}cache:{${ns}}:`
    this.entries = this.base + 'e:'
  }

  entry (key: string): string { return this.entries + key }

  lock (key: string): string { return this.base + 'l:' + key }

  tag (name: string): TagRef {
    return { name, set: this.base + 't:' + name, version: this.base + 'v:' + name }
  }

  /** A tag's member set once detached by an invalidation, awaiting garbage collection. */
  detached (id: string, name: string): string { return this.base + 'g:' + id + ':' + name }
}
