import type { RedkitScript } from '@redkit/core'
import { ReplyError } from 'ioredis'
import type { SavePlan } from './backend.js'

/** Sessions written by one batch script call at most (it unpacks two values per session into one ZADD). */
export const BATCH_SESSIONS = 256
/** ARGV items of one batch call at most, unless its first session alone has more. */
const BATCH_ARGS = 4096
/** Characters of field values of one batch call at most, unless its first session alone has more. */
const BATCH_CHARS = 512 * 1024

/** Whether a save can be written by the batch script: one with no field to delete and no user to move from. */
export function batchable (plan: SavePlan): boolean {
  return plan.del.length === 0 && (plan.previousUser === undefined || plan.previousUser === plan.user)
}

/** The mode letters of the SAVE and SAVE_BATCH scripts. */
export const MODES = { new: 'n', fresh: 'f', update: 'u' } as const

interface Pending {
  resolve: (saved: boolean) => void
  reject: (err: unknown) => void
}

/**
 * Saves of sessions queued in one turn of the event loop (single server),
 * sent as one SAVE_BATCH call at the queue position of the first of them.
 * Moving a later save up to that position is safe only past commands of
 * other sessions, so the queue notes the id of every command queued after
 * the batch opened, and a save of such an id starts a batch of its own
 * instead of joining this one.
 */
export class SaveBatch {
  /** Ids of commands queued after this batch: a save of one of them must not move ahead of them. */
  readonly after = new Set<string>()
  private readonly keys: string[]
  private readonly args: Array<string | number> = [0]
  private readonly pending: Pending[] = []
  private chars = 0

  constructor (registry: string, usersRegistry: string, private readonly script: RedkitScript<Array<number | string>>) {
    this.keys = [registry, usersRegistry]
  }

  /** Whether a save of `id` with these keys and fields can still join. */
  accepts (id: string, set: string[]): boolean {
    if (this.pending.length === 0) return true
    if (this.pending.length >= BATCH_SESSIONS || this.after.has(id)) return false
    if (this.args.length + 5 + set.length > BATCH_ARGS) return false
    return this.chars + charsOf(set) <= BATCH_CHARS
  }

  /**
   * `goneKey` only for a 'new' save: a fresh id has no tombstone, and an update checks its hash
   * instead, so each has one key less to send and parse.
   */
  add (plan: SavePlan, sessionKey: string, goneKey: string | undefined, userKey: string | undefined): Promise<boolean> {
    this.keys.push(sessionKey)
    if (plan.mode === 'new') {
      if (goneKey === undefined) throw new Error('a new session\'s save needs its tombstone key')
      this.keys.push(goneKey)
    }
    if (userKey !== undefined) this.keys.push(userKey)
    this.args.push(MODES[plan.mode], plan.ttlMs, plan.set.length / 2, plan.id, plan.user ?? '')
    for (const item of plan.set) this.args.push(item)
    this.chars += charsOf(plan.set)
    return new Promise<boolean>((resolve, reject) => { this.pending.push({ resolve, reject }) })
  }

  send (): void {
    const pending = this.pending
    this.args[0] = pending.length
    this.script(this.keys, this.args).then((replies) => {
      for (let i = 0; i < pending.length; i++) {
        const reply = replies[i]
        if (typeof reply === 'string') pending[i]!.reject(new ReplyError(reply))
        else pending[i]!.resolve(reply === 1)
      }
    }, (err: unknown) => {
      for (const p of pending) p.reject(err)
    })
  }
}

function charsOf (items: string[]): number {
  let n = 0
  for (const item of items) n += item.length
  return n
}
