import { TurnQueue } from '@redkit/core/kit'
import type { Transport } from './backend.js'
import { batch, classic, ENTRY_CHARS, type Outgoing } from './envelope.js'

/**
 * Bytes of one batch envelope at most: far below Redis' proto-max-bulk-len,
 * and small enough that a subscriber parses one without a long pause and a
 * batch is never held back waiting for a huge write. A larger message goes
 * alone, in the classic form.
 */
export const MAX_BATCH_BYTES = 64 * 1024
/** Messages of one batch at most: bounds the messages one parse hands out. */
export const MAX_BATCH_MESSAGES = 1024
/** Batches a turn holds before sending them early: bounds its memory as core's writes do. */
const MAX_QUEUED_BATCHES = 64
/**
 * Messages of the turn's first batch when it leaves before the end of the
 * turn; each early send doubles it. Core writes a turn's first 16 commands at
 * once, then more at a time, so the first messages of a burst leave before
 * the rest are encoded; a batch must not hold them back longer.
 */
const FIRST_SEND = 16

/** setImmediate as loaded: an app's fake timers must not stall the reset of the limit. */
const { setImmediate: soon } = globalThis

interface Batch {
  channel: string
  messages: Outgoing[]
  /** Characters of the envelope at most: the bytes count once three times this could pass the limit. */
  chars: number
  /** Exact bytes, counted from the moment `chars` no longer bounds them; -1 before. */
  bytes: number
  /** Shared by the batch's messages: each publish() resolves to the PUBLISH reply of its batch. */
  done: Promise<number>
  resolve: (receivers: number) => void
  reject: (err: unknown) => void
}

/**
 * Gathers the messages published to each channel during one turn and sends
 * each channel's messages as one PUBLISH at the end of the turn, the point
 * where core's connection would have written them anyway, or earlier in
 * growing pieces as core writes, so no message waits longer than before.
 */
export class PublishBatcher {
  /** The batch still taking messages, per Redis channel; every one of them is queued. */
  private readonly open = new Map<string, Batch>()
  private readonly queue: TurnQueue<Batch>
  /** Messages a batch takes before it is sent early; back to FIRST_SEND at the end of a turn that sent early. */
  private limit = FIRST_SEND
  private resetScheduled = false
  private readonly reset = (): void => {
    this.resetScheduled = false
    this.limit = FIRST_SEND
  }

  constructor (private readonly transport: Transport, private readonly publisher: string) {
    this.queue = new TurnQueue((batches) => { this.send(batches) }, { max: MAX_QUEUED_BATCHES })
  }

  add (channel: string, message: Outgoing): Promise<number> {
    const current = this.open.get(channel)
    if (current !== undefined) {
      if (this.fits(current, message)) {
        if (current.messages.push(message) >= this.limit) this.sendEarly()
        return current.done
      }
      // A full batch leaves at once, as core writes its 64k characters at once.
      this.sendEarly()
    }
    let settle!: Pick<Batch, 'resolve' | 'reject'>
    const done = new Promise<number>((resolve, reject) => { settle = { resolve, reject } })
    const next: Batch = {
      channel,
      messages: [message],
      chars: this.publisher.length + 16 + message.json.length + ENTRY_CHARS,
      bytes: -1,
      done,
      resolve: settle.resolve,
      reject: settle.reject
    }
    this.open.set(channel, next)
    this.queue.push(next)
    return done
  }

  private fits (open: Batch, message: Outgoing): boolean {
    if (open.messages.length >= MAX_BATCH_MESSAGES) return false
    const chars = message.json.length + ENTRY_CHARS
    if (open.bytes < 0 && (open.chars + chars) * 3 <= MAX_BATCH_BYTES) {
      open.chars += chars
      return true
    }
    // Characters are a lower bound of bytes: counting bytes only near the limit keeps small batches cheap.
    if (open.bytes < 0) open.bytes = open.messages.reduce((sum, m) => sum + Buffer.byteLength(m.json) + ENTRY_CHARS, this.publisher.length + 16)
    const bytes = Buffer.byteLength(message.json) + ENTRY_CHARS
    if (open.bytes + bytes > MAX_BATCH_BYTES) return false
    open.bytes += bytes
    return true
  }

  private sendEarly (): void {
    this.limit = Math.min(this.limit * 2, MAX_BATCH_MESSAGES)
    if (!this.resetScheduled) {
      this.resetScheduled = true
      soon(this.reset)
    }
    this.queue.flush()
  }

  /** Sends what was gathered now: before a message that bypasses the batches, so it does not overtake them. */
  flush (): void {
    this.queue.flush()
  }

  private send (batches: Batch[]): void {
    // Every open batch is in the queue, and the queue is sent whole.
    this.open.clear()
    for (const b of batches) {
      const payload = b.messages.length === 1 ? classic(this.publisher, b.messages[0]!) : batch(this.publisher, b.messages)
      try {
        this.transport.publish(b.channel, payload).then(b.resolve, b.reject)
      } catch (err) {
        b.reject(err)
      }
    }
  }
}
