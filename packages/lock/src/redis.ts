import type { FastifyBaseLogger } from 'fastify'
import type { Redkit, RedisClient } from '@redkit/core'
import type { AcquireReply, Backend, HolderInfo, LockKind, LockRef } from './backend.js'
import { parseMember } from './backend.js'
import {
  LOCK_ACQUIRE, LOCK_EXTEND, LOCK_INSPECT, LOCK_LEAVE, LOCK_RELEASE,
  SEM_ACQUIRE, SEM_EXTEND, SEM_INSPECT, SEM_LEAVE, SEM_RELEASE
} from './lua.js'

/**
 * Redis backend: one Lua round trip per step, one subscriber connection
 * (opened on the first wait) for release notifications. Locks use a plain
 * string key; semaphores a sorted set (see lua.ts for the layouts).
 */
export function redisBackend (redkit: Redkit, log: FastifyBaseLogger, counterTtl: number): Backend {
  const lockAcquire = redkit.defineScript<AcquireReply>('redkitLockAcquire', LOCK_ACQUIRE, 4)
  const lockRelease = redkit.defineScript<number>('redkitLockRelease', LOCK_RELEASE, 3)
  const lockExtend = redkit.defineScript<number>('redkitLockExtend', LOCK_EXTEND, 1)
  const lockLeave = redkit.defineScript<number>('redkitLockLeave', LOCK_LEAVE, 3)
  const lockInspect = redkit.defineScript<[string | null, number]>('redkitLockInspect', LOCK_INSPECT, 1)
  const semAcquire = redkit.defineScript<[number, number, number]>('redkitSemaphoreAcquire', SEM_ACQUIRE, 4)
  const semRelease = redkit.defineScript<number>('redkitSemaphoreRelease', SEM_RELEASE, 3)
  const semExtend = redkit.defineScript<number>('redkitSemaphoreExtend', SEM_EXTEND, 1)
  const semLeave = redkit.defineScript<number>('redkitSemaphoreLeave', SEM_LEAVE, 3)
  const semInspect = redkit.defineScript<Array<string | number>>('redkitSemaphoreInspect', SEM_INSPECT, 1)
  const channel = redkit.key('lock', 'wake')
  const heads: Record<LockKind, string> = { lock: redkit.key('lock', ''), semaphore: redkit.key('sem', '') }
  const counterTtlText = String(counterTtl)
  let subscriber: RedisClient | undefined

  /**
   * [holder(s), fence, queue, alive] under "<prefix>lock:{name}" or "<prefix>sem:{name}":
   * every key of one lock shares the hash tag. Kept on the ref, so a release reuses them.
   */
  const keysOf = (ref: LockRef): string[] => {
    if (ref.keys !== undefined) return ref.keys
    const b = heads[ref.kind] + redkit.hashTag(ref.name)
    ref.keys = [ref.kind === 'lock' ? `${b}:holder` : `${b}:holders`, `${b}:fence`, `${b}:queue`, `${b}:alive`]
    return ref.keys
  }
  /** [holder(s), queue, alive]: the keys of release and leave. */
  const releaseKeys = (ref: LockRef): string[] => {
    const k = keysOf(ref)
    return [k[0]!, k[2]!, k[3]!]
  }

  // The lock paths return the script's promise as it is: no extra async layer per call.
  const acquireLock = (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number, retry: boolean): Promise<AcquireReply> =>
    lockAcquire(keysOf(ref), retry
      ? [owner, ttl, waiter === null ? 0 : lease, counterTtlText, channel]
      : [owner, ttl, waiter === null ? 0 : lease, counterTtlText])

  const acquireSemaphore = async (ref: LockRef, owner: string, ttl: number, waiter: string | null, lease: number): Promise<AcquireReply> => {
    const [granted, x, y] = await semAcquire(keysOf(ref), [owner, ttl, ref.limit, waiter === null ? '' : '1', lease, counterTtlText])
    return granted === 1 ? String(x) : [x, y]
  }

  const inspectLock = async (ref: LockRef): Promise<HolderInfo[]> => {
    const [value, ttl] = await lockInspect([keysOf(ref)[0]!], [])
    // "~": free while the queue takes its turn; "|w": someone waits (see lua.ts).
    if (value === null || value === '~' || ttl < 0) return []
    return [{ ...parseMember(value.endsWith('|w') ? value.slice(0, -2) : value), ttl }]
  }

  const inspectSemaphore = async (ref: LockRef): Promise<HolderInfo[]> => {
    const reply = await semInspect([keysOf(ref)[0]!], [])
    const at = Number(reply[0])
    const out: HolderInfo[] = []
    for (let i = 1; i + 1 < reply.length; i += 2) {
      out.push({ ...parseMember(String(reply[i])), ttl: Math.floor(Number(reply[i + 1]) - at) })
    }
    return out
  }

  return {
    // The waiter id is the owner id (the manager makes them equal), so it is not sent twice.
    acquire: (ref, owner, ttl, waiter, lease, retry = false) => ref.kind === 'lock'
      ? acquireLock(ref, owner, ttl, waiter, lease, retry)
      : acquireSemaphore(ref, owner, ttl, waiter, lease),
    release: (ref, member) => ref.kind === 'lock'
      ? lockRelease(releaseKeys(ref), [member, channel])
      : semRelease(releaseKeys(ref), [member, ref.limit, channel]),
    extend: (ref, member, ttl) => ref.kind === 'lock'
      ? lockExtend([keysOf(ref)[0]!], [member, ttl])
      : semExtend([keysOf(ref)[0]!], [member, ttl]),
    leave: async (ref, waiter) => {
      if (ref.kind === 'lock') await lockLeave(releaseKeys(ref), [waiter, channel])
      else await semLeave(releaseKeys(ref), [waiter, ref.limit, channel])
    },
    inspect: async (ref) => ref.kind === 'lock' ? await inspectLock(ref) : await inspectSemaphore(ref),
    names: async function * () {
      const layouts: Array<[LockKind, string]> = [['lock', '}:holder'], ['semaphore', '}:holders']]
      for (const [kind, tail] of layouts) {
        const head = heads[kind]
        const seen = new Set<string>()
        for await (const key of redkit.scan(`${redkit.escapeGlob(head)}{*${tail}`)) {
          const name = key.slice(head.length + 1, -tail.length)
          if (seen.has(name)) continue
          seen.add(name)
          yield { kind, name }
        }
      }
    },
    listen: (wake, wakeAll) => {
      if (subscriber !== undefined) return
      const sub = redkit.duplicate()
      subscriber = sub
      sub.on('message', (ch: string, message: string) => {
        if (ch !== channel) return
        for (const waiter of message.split(' ')) wake(waiter)
      })
      // Releases published while the subscriber was away were missed; waiters retry at once.
      sub.on('ready', wakeAll)
      sub.subscribe(channel).then(wakeAll, (err: Error) => {
        log.warn({ err: err.message }, '@redkit/lock: could not subscribe to release notifications; waiters fall back to polling')
      })
    }
  }
}
