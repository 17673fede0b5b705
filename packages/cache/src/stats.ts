export interface NamespaceStats {
  hits: number
  misses: number
  /** hits / (hits + misses), 0 when there were no reads. */
  hitRate: number
  loaderRuns: number
  staleServes: number
  errors: number
  /** Hits answered by the in-process L1 (included in hits). */
  l1Hits: number
  /** Misses that waited for another caller's loader. */
  lockWaits: number
  /** Waits that gave up after lockWait and ran the loader themselves. */
  lockTimeouts: number
}

export interface CacheStats {
  total: NamespaceStats
  namespaces: Record<string, NamespaceStats>
}

/** What a namespace counts; hitRate is derived when stats are read. */
export type Counters = Omit<NamespaceStats, 'hitRate'>

/** How one read was answered, counted once per caller. */
export type Outcome = 'hit' | 'stale' | 'miss'

export function emptyCounters (): Counters {
  return { hits: 0, misses: 0, loaderRuns: 0, staleServes: 0, errors: 0, l1Hits: 0, lockWaits: 0, lockTimeouts: 0 }
}

export function count (c: Counters, outcome: Outcome): void {
  if (outcome === 'miss') {
    c.misses++
    return
  }
  c.hits++
  if (outcome === 'stale') c.staleServes++
}

export function withRate (c: Counters): NamespaceStats {
  const reads = c.hits + c.misses
  return { ...c, hitRate: reads === 0 ? 0 : c.hits / reads }
}

export function summary (spaces: Iterable<{ ns: string, counters: Counters }>): CacheStats {
  const total = emptyCounters()
  const namespaces: Record<string, NamespaceStats> = {}
  for (const { ns, counters } of spaces) {
    namespaces[ns] = withRate(counters)
    for (const name of Object.keys(total) as Array<keyof Counters>) total[name] += counters[name]
  }
  return { total: withRate(total), namespaces }
}
