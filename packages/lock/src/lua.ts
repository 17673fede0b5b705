import type { LuaScript } from '@redkit/core/kit'
import { LOCK_BATCH } from './lua/batch.js'
import { LOCK_ACQUIRE, LOCK_EXTEND, LOCK_INSPECT, LOCK_LEAVE, LOCK_RELEASE } from './lua/lock.js'
import { REGISTRY_COUNT, REGISTRY_PAGE } from './lua/registry.js'
import { SEM_ACQUIRE, SEM_EXTEND, SEM_INSPECT, SEM_LEAVE, SEM_RELEASE } from './lua/semaphore.js'

/*
 * The scripts live in lua/: lock.ts, batch.ts, semaphore.ts and registry.ts, assembled
 * from the fragments in lua/snippets.ts. Two layouts share those fragments.
 *
 * A lock (one holder) is a plain string key, so the common case is a SET NX PX
 * plus a write of the fencing counter, and a compare-and-delete:
 *   holder  string, PX = the lease, one of
 *           "<token>|<owner>"     held, nobody has asked to wait
 *           "<token>|<owner>|w"   held, and someone joined the queue meanwhile
 *           "~"                   free, but the queue goes first (PX = the queue's life)
 *   fence   string, last fencing token issued for the name
 *   queue   zset  member waiter id, score = arrival (server µs)
 *   alive   zset  member waiter id, score = end of the waiter's lease (server ms)
 * The holder key itself tells whether anyone waits, so a free lock is granted
 * by its SET NX alone and a release without waiters is a compare-and-delete:
 * neither touches the queue keys. A refused waiter marks the holder ("|w"),
 * and the release that finds the mark hands the lock to the queue ("~").
 *
 * A semaphore (N holders) keeps its holders in a sorted set:
 *   holders zset  member "<token>|<owner>", score = expiry (server ms)
 *   fence, queue, alive as above.
 *
 * The registry lists what is held, for list() and count() without a SCAN:
 *   registry zset, one per shard (see redis.ts), scored by when the entry's
 *            lease ends (server µs; entries may share a score, and Redis orders those by member,
 *            so a page resumes after the last score and member it listed), kept by the scripts that grant, extend
 *            and release, and pruned of ended leases whenever it is read:
 *            "l|<token>|<owner>|<name>"  a held lock, its holder in the entry
 *            "s|<name>"                  a semaphore with holders (until its last lease ends)
 *            256 "~"                     scored +inf: keeps the key while nothing is held, and
 *                                        keeps it a skiplist (see REGISTER; earlier versions wrote "~")
 *            PX = up to twice its longest lease.
 * Every script declares every key it touches, all in one Cluster slot.
 *
 * Time comes from the server only (TIME, and key expiry for a lock's lease),
 * never from the application's clock. Expired semaphore holders and dead
 * waiters are pruned by the scripts that touch them.
 */

export { LOCK_ACQUIRE, LOCK_BATCH, LOCK_EXTEND, LOCK_INSPECT, LOCK_LEAVE, LOCK_RELEASE, REGISTRY_COUNT, REGISTRY_PAGE, SEM_ACQUIRE, SEM_EXTEND, SEM_INSPECT, SEM_LEAVE, SEM_RELEASE }

/** Every script with its command name and key count. */
export const SCRIPTS = {
  lockAcquire: { name: 'redkitLockAcquire', keys: 5, lua: LOCK_ACQUIRE },
  lockRelease: { name: 'redkitLockRelease', keys: 4, lua: LOCK_RELEASE },
  lockExtend: { name: 'redkitLockExtend', keys: 2, lua: LOCK_EXTEND },
  lockLeave: { name: 'redkitLockLeave', keys: 3, lua: LOCK_LEAVE },
  lockInspect: { name: 'redkitLockInspect', keys: 1, lua: LOCK_INSPECT },
  lockBatch: { name: 'redkitLockBatch', keys: undefined, lua: LOCK_BATCH },
  semAcquire: { name: 'redkitSemaphoreAcquire', keys: 5, lua: SEM_ACQUIRE },
  semRelease: { name: 'redkitSemaphoreRelease', keys: 4, lua: SEM_RELEASE },
  semExtend: { name: 'redkitSemaphoreExtend', keys: 2, lua: SEM_EXTEND },
  semLeave: { name: 'redkitSemaphoreLeave', keys: 3, lua: SEM_LEAVE },
  semInspect: { name: 'redkitSemaphoreInspect', keys: 1, lua: SEM_INSPECT },
  registryPage: { name: 'redkitLockRegistryPage', keys: 1, lua: REGISTRY_PAGE },
  registryCount: { name: 'redkitLockRegistryCount', keys: 1, lua: REGISTRY_COUNT }
} as const satisfies Record<string, LuaScript>
