import type { RedkitScript } from '@redkit/core'
import { TurnQueue } from '@redkit/core/kit'
import { ReplyError } from 'ioredis'

/**
 * Items of one LOCK_BATCH call at most. Bounds its arguments and how long Redis
 * runs it; a longer turn sends several calls, the first ones while the app
 * still issues the rest.
 */
export const BATCH_ITEMS = 32

/** The answer of LOCK_BATCH to an acquire that found the lock taken: send LOCK_ACQUIRE. */
export const NOT_FREE = -1

type Reply = string | number | [string]

interface Item {
  /** 'a' (acquire) or 'r' (release). */
  op: string
  /** The lock's keys: holder, fence, queue, alive, registry (see redis.ts). */
  keys: string[]
  /** The item's ARGV after its op. */
  args: Array<string | number>
  resolve: (reply: unknown) => void
  reject: (err: unknown) => void
  /** Sends this item alone, with the script that covers every case. */
  alone: () => Promise<unknown>
}

/**
 * First tries and releases of locks issued in one turn, sent as one
 * LOCK_BATCH call in issue order (single server). A turn with one of them
 * sends it with its own script, as without a batch. Commands sent around
 * the batch call flush() first, so Redis sees every command of a lock in the
 * order it was issued.
 */
export class LockBatch {
  readonly #queue: TurnQueue<Item>
  readonly #script: RedkitScript<Reply[]>
  readonly #head: Array<string | number>
  readonly #registry: string

  constructor (script: RedkitScript<Reply[]>, registry: string, counterTtl: string, channel: string) {
    this.#script = script
    this.#registry = registry
    this.#head = [0, counterTtl, channel]
    this.#queue = new TurnQueue((items) => { this.#send(items) }, { max: BATCH_ITEMS })
  }

  /** The token as text or NOT_FREE; sent alone, the reply of `alone`. */
  acquire<T> (keys: string[], args: Array<string | number>, alone: () => Promise<T>): Promise<T | string | number> {
    return this.#push('a', keys, args, alone) as Promise<T | string | number>
  }

  /** 1 when the member still held the lock, else 0. */
  release (keys: string[], args: Array<string | number>, alone: () => Promise<number>): Promise<number> {
    return this.#push('r', keys, args, alone) as Promise<number>
  }

  /** Sends what is queued now, before a command that bypasses the batch. */
  flush (): void {
    this.#queue.flush()
  }

  #push (op: string, keys: string[], args: Array<string | number>, alone: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => { this.#queue.push({ op, keys, args, resolve, reject, alone }) })
  }

  #send (items: Item[]): void {
    if (items.length === 1) {
      const item = items[0]!
      item.alone().then(item.resolve, item.reject)
      return
    }
    const keys = [this.#registry]
    const args = [...this.#head]
    args[0] = items.length
    for (const { op, keys: k, args: a } of items) {
      if (op === 'a') keys.push(k[0]!, k[1]!)
      else keys.push(k[0]!, k[2]!, k[3]!)
      args.push(op)
      for (const arg of a) args.push(arg)
    }
    this.#script(keys, args).then((replies) => {
      for (let i = 0; i < items.length; i++) {
        const reply = replies[i]!
        if (Array.isArray(reply)) items[i]!.reject(new ReplyError(reply[0]))
        else items[i]!.resolve(reply)
      }
    }, (err: unknown) => {
      for (const item of items) item.reject(err)
    })
  }
}
