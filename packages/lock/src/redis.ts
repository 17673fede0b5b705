import type { Redkit, RedkitSubscription } from '@redkit/core'
import { defineLua } from '@redkit/core/kit'
import type { AcquireReply, Backend, HeldEntry, HolderInfo, LockKind, LockRef } from './backend.js'
import { parseMember } from './backend.js'
import { LockBatch, NOT_FREE } from './batch.js'
import { SCRIPTS } from './lua.js'
import {
  CLUSTER_SHARDS, decodeCursor, encodeCursor, lockEntry, parseEntry, type Entry, semaphoreEntry, shardOf, START, type Position
} from './registry.js'

/**
 * Redis backend: one Lua round trip per step, one subscription (made on the
 * first wait, on the app's shared subscriber) for release notifications.
 * Locks use a plain string key; semaphores a sorted set (see lua.ts for the
 * layouts).
 */
export function redisBackend (redkit: Redkit, counterTtl: number): Backend {
  const lockAcquire = defineLua<AcquireReply>(redkit, SCRIPTS.lockAcquire)
  const lockRelease = defineLua<number>(redkit, SCRIPTS.lockRelease)
  const lockExtend = defineLua<number>(redkit, SCRIPTS.lockExtend)
  const lockLeave = defineLua<number>(redkit, SCRIPTS.lockLeave)
  const lockInspect = defineLua<[string | null, number]>(redkit, SCRIPTS.lockInspect)
  const semAcquire = defineLua<[number, number, number]>(redkit, SCRIPTS.semAcquire)
  const semRelease = defineLua<number>(redkit, SCRIPTS.semRelease)
  const semExtend = defineLua<number>(redkit, SCRIPTS.semExtend)
  const semLeave = defineLua<number>(redkit, SCRIPTS.semLeave)
  const semInspect = defineLua<Array<string | number>>(redkit, SCRIPTS.semInspect)
  const registryPage = defineLua<string[]>(redkit, SCRIPTS.registryPage)
  const registryCount = defineLua<number>(redkit, SCRIPTS.registryCount)
  const lockBatch = defineLua<Array<string | number | [string]>>(redkit, SCRIPTS.lockBatch)
  const channel = redkit.key('lock', 'wake')
  const heads: Record<LockKind, string> = { lock: redkit.key('lock', ''), semaphore: redkit.key('sem', '') }
  const counterTtlText = String(counterTtl)
  let subscription: RedkitSubscription | undefined

  /*
   * On one server the keys of a lock carry its name as their hash tag, and one
   * registry lists every lock. On Cluster a script may only touch keys of one
   * slot, and the registry must be written by the scripts that grant and
   * release: so a lock's keys carry the tag of its shard (one of
   * CLUSTER_SHARDS), next to that shard's registry.
   */
  const shards = redkit.isCluster ? CLUSTER_SHARDS : 1
  const tags = Array.from({ length: shards }, (_, i) => redkit.hashTag(`${redkit.prefix}lock:${i}`))
  const registries = redkit.isCluster ? tags.map((tag) => `${heads.lock}${tag}:registry`) : [redkit.key('lock', 'registry')]
  const baseOf = (ref: LockRef): string => redkit.isCluster
    ? `${heads[ref.kind]}${tags[shardOf(ref.name, shards)]!}:${ref.name}`
    : heads[ref.kind] + redkit.hashTag(ref.name)

  /** [holder(s), fence, queue, alive, registry], every one in one slot. Kept on the ref, so a release reuses them. */
  const keysOf = (ref: LockRef): string[] => {
    if (ref.keys !== undefined) return ref.keys
    const b = baseOf(ref)
    const registry = registries[redkit.isCluster ? shardOf(ref.name, shards) : 0]!
    ref.keys = [ref.kind === 'lock' ? `${b}:holder` : `${b}:holders`, `${b}:fence`, `${b}:queue`, `${b}:alive`, registry]
    return ref.keys
  }
  /** [holder(s), queue, alive, registry]: the keys of release. */
  const releaseKeys = (ref: LockRef): string[] => {
    if (ref.releaseKeys !== undefined) return ref.releaseKeys
    const k = keysOf(ref)
    ref.releaseKeys = [k[0]!, k[2]!, k[3]!, k[4]!]
    return ref.releaseKeys
  }
  const leaveKeys = (ref: LockRef): string[] => releaseKeys(ref).slice(0, 3)
  const extendKeys = (ref: LockRef): string[] => [keysOf(ref)[0]!, keysOf(ref)[4]!]

  // On one server, first tries and releases of one turn share a script call; every other
  // command sends the batch first (flushed), so each lock's commands reach Redis in issue order.
  const batch = redkit.isCluster ? undefined : new LockBatch(lockBatch, registries[0]!, counterTtlText, channel)
  const flushed = <T>(send: () => T): T => {
    batch?.flush()
    return send()
  }

  // The lock paths return the script's promise as it is: no extra async layer per call.
  const acquireAlone = (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number, retry: boolean): Promise<AcquireReply> =>
    lockAcquire(keysOf(ref), retry
      ? [owner, ttl, waiter === null ? 0 : lease, counterTtlText, ref.name, channel]
      : [owner, ttl, waiter === null ? 0 : lease, counterTtlText, ref.name])

  // A batch takes only free locks: for a taken one (NOT_FREE) the lock script decides whether to queue.
  const acquireLock = (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number, retry: boolean): Promise<AcquireReply> => {
    const alone = (): Promise<AcquireReply> => acquireAlone(ref, owner, ttl, waiter, lease, retry)
    if (batch === undefined || retry) return flushed(alone)
    return batch.acquire(keysOf(ref), [owner, ttl, ref.name], alone)
      .then((reply) => reply === NOT_FREE ? flushed(alone) : reply as AcquireReply)
  }

  const releaseLock = (ref: LockRef, member: string): Promise<number> => {
    const entry = lockEntry(member, ref.name)
    const alone = (): Promise<number> => lockRelease(releaseKeys(ref), [member, channel, entry])
    return batch === undefined ? alone() : batch.release(keysOf(ref), [member, entry], alone)
  }

  const acquireSemaphore = async (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number): Promise<AcquireReply> => {
    const [granted, x, y] = await flushed(() => semAcquire(keysOf(ref),
      [owner, ttl, ref.limit, waiter === null ? '' : '1', lease, counterTtlText, semaphoreEntry(ref.name)]))
    return granted === 1 ? String(x) : [x, y]
  }

  const inspectLock = async (ref: LockRef): Promise<HolderInfo[]> => {
    const [value, ttl] = await flushed(() => lockInspect([keysOf(ref)[0]!], []))
    // "~": free while the queue takes its turn; "|w": someone waits (see lua.ts).
    if (value === null || value === '~' || ttl < 0) return []
    return [{ ...parseMember(value.endsWith('|w') ? value.slice(0, -2) : value), ttl }]
  }

  const inspectSemaphore = async (ref: LockRef): Promise<HolderInfo[]> => {
    const reply = await flushed(() => semInspect([keysOf(ref)[0]!], []))
    const at = Number(reply[0])
    const out: HolderInfo[] = []
    for (let i = 1; i + 1 < reply.length; i += 2) {
      out.push({ ...parseMember(String(reply[i])), ttl: Math.floor(Number(reply[i + 1]) - at) })
    }
    return out
  }

  /** One shard's entries from `at`, as read. */
  const readShard = async (at: Position, want: number): Promise<Array<{ entry: Entry, member: string, score: string }>> => {
    const from = at.after === null ? [] : at.entry === null ? [at.after] : [at.after, at.entry]
    const reply = await flushed(() => registryPage([registries[at.shard]!], [want, ...from]))
    const now = Number(reply[0])
    const rows = []
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const member = reply[i]!
      const score = reply[i + 1]!
      rows.push({ score, member, entry: parseEntry(member, Math.max(0, Math.floor((Number(score) - now) / 1000))) })
    }
    return rows
  }

  /**
   * Reads the shard of the cursor; while the page is not full, the next 2, 4, 8… shards at once,
   * so a sparse listing on Cluster takes a few round trips, not one per shard.
   */
  const page = async (cursor: string | null, limit: number): Promise<{ entries: HeldEntry[], cursor: string | null }> => {
    let at: Position = cursor === null ? START : decodeCursor(cursor, shards)
    const entries: Array<HeldEntry | Promise<HeldEntry>> = []
    for (let width = 1; at.shard < shards && entries.length < limit; width *= 2) {
      const want = limit - entries.length
      const from = at
      const batch = Array.from({ length: Math.min(width, shards - from.shard) }, (_, i) => from.shard + i)
      const replies = await Promise.all(batch.map(async (shard) => await readShard(shard === from.shard ? from : { shard, after: null, entry: null }, want)))
      for (let i = 0; i < batch.length && entries.length < limit; i++) {
        const rows = replies[i]!
        const take = rows.slice(0, limit - entries.length)
        for (const { entry } of take) {
          // A lock's entry carries its holder; a semaphore's holders are read after (all at once).
          entries.push(entry.kind === 'lock'
            ? { kind: 'lock', name: entry.name, holders: [entry.holder] }
            : inspectSemaphore({ kind: 'semaphore', name: entry.name, limit: 1 }).then((holders) => ({ ...entry, holders })))
        }
        // A shard read to its end is done; otherwise the next page resumes after the last entry taken.
        // Entries may share a lease end, so the cursor names the last one too.
        const last = take[take.length - 1]!
        at = take.length === rows.length && rows.length < want
          ? { shard: batch[i]! + 1, after: null, entry: null }
          : { shard: batch[i]!, after: last.score, entry: last.member }
      }
    }
    const held = (await Promise.all(entries)).filter((e) => e.holders.length > 0)
    return { entries: held, cursor: at.shard < shards ? encodeCursor(at) : null }
  }

  return {
    // The waiter id is the owner id (the manager makes them equal), so it is not sent twice.
    acquire: (ref, owner, ttl, waiter, lease, retry = false) => ref.kind === 'lock'
      ? acquireLock(ref, owner, ttl, waiter, lease, retry)
      : acquireSemaphore(ref, owner, ttl, waiter, lease),
    release: (ref, member) => ref.kind === 'lock'
      ? releaseLock(ref, member)
      : flushed(() => semRelease(releaseKeys(ref), [member, ref.limit, channel, semaphoreEntry(ref.name)])),
    extend: (ref, member, ttl) => flushed(() => ref.kind === 'lock'
      ? lockExtend(extendKeys(ref), [member, ttl, lockEntry(member, ref.name)])
      : semExtend(extendKeys(ref), [member, ttl, semaphoreEntry(ref.name)])),
    leave: async (ref, waiter) => {
      await flushed(() => ref.kind === 'lock'
        ? lockLeave(leaveKeys(ref), [waiter, channel])
        : semLeave(leaveKeys(ref), [waiter, ref.limit, channel]))
    },
    inspect: async (ref) => ref.kind === 'lock' ? await inspectLock(ref) : await inspectSemaphore(ref),
    page,
    count: async () => (await Promise.all(registries.map(async (key) => await flushed(() => registryCount([key], []))))).reduce((a, b) => a + b, 0),
    // Once subscribed (again), every waiter retries: releases published meanwhile were missed.
    listen: (wake, wakeAll, busy) => {
      subscription ??= redkit.subscribe(channel, (_, message) => { for (const waiter of message.split(' ')) wake(waiter) },
        { onActive: wakeAll, probe: busy })
    },
    wakeUps: () => ({ subscribed: subscription?.active ?? false, losses: (subscription?.losses ?? 0) + (subscription?.failures ?? 0) }),
    close: () => { subscription?.close().catch(() => {}) }
  }
}
