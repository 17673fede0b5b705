import { flushWrites } from '../writes.js'

/**
 * setImmediate as loaded: an app's fake timers (node:test's mock.timers,
 * sinon) must not stall a package's commands.
 */
const { setImmediate: soon } = globalThis

export interface TurnQueueOptions<T> {
  /**
   * Items sent at once at most: the push that reaches it sends the queue
   * there and then, and later pushes of the turn wait for its end as before.
   * Bounds what one turn holds in memory and what one send writes.
   */
  max?: number
  /**
   * Called with the items just sent, once their commands are written: where
   * a deadline counted from the write starts.
   */
  written?: (items: T[]) => void
}

/**
 * Items (a package's commands) gathered during one turn of the event loop
 * and sent together from one setImmediate, in the order they were pushed,
 * followed by a write of every command held back (flushWrites).
 *
 * Requests that arrive together (one readiness wake-up of many sockets) are
 * handled in callbacks of their own, and each would otherwise send its
 * command alone; a queue lets them share one send (rate-limit decides
 * identical checks in one script call) and one socket write. The write
 * follows the send at once, because a setImmediate queued from this one would
 * wait a whole turn of I/O callbacks.
 *
 * `flush()` sends what is queued now: before a command that bypasses the
 * queue, so Redis still sees the commands in the order they were issued.
 */
export class TurnQueue<T> {
  #items: T[] = []
  #scheduled = false
  readonly #send: (items: T[]) => void
  readonly #max: number
  readonly #written: ((items: T[]) => void) | undefined
  readonly #end = (): void => {
    this.#scheduled = false
    this.flush()
  }

  constructor (send: (items: T[]) => void, options: TurnQueueOptions<T> = {}) {
    this.#send = send
    this.#max = options.max ?? Number.POSITIVE_INFINITY
    this.#written = options.written
  }

  /** Items waiting for the end of the turn. */
  get length (): number {
    return this.#items.length
  }

  push (item: T): void {
    if (this.#items.push(item) >= this.#max) {
      this.flush()
      return
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      soon(this.#end)
    }
  }

  /** Sends the queued items now and writes their commands; nothing when the queue is empty. */
  flush (): void {
    const items = this.#items
    if (items.length === 0) return
    this.#items = []
    this.#send(items)
    flushWrites()
    this.#written?.(items)
  }
}
