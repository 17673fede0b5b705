import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import type { StreamEntry, StreamReader, Transport } from './backend.js'
import { decodeMessage } from './envelope.js'
import { PubsubInvalidHandlerError, PubsubInvalidIdError, PubsubStreamRunningError } from './errors.js'
import { STREAM_ID, type ResolvedStreamOptions } from './options.js'
import type { PubsubMessage } from './types.js'

export interface StreamHost {
  transport: Transport
  log: FastifyBaseLogger
  /** Encodes an envelope for the channel, taking the next sequence number. */
  encode: (channel: string, data: unknown) => string
  /** Publishes a stream entry on the pub/sub channel of the same name. */
  notify: (channel: string, payload: string) => Promise<number>
  isClosed: () => boolean
  /** Key marking this stream, group and consumer name as in use by a running consumer. */
  consumerKey: string
}

export type StreamHandler<T> = (message: PubsubMessage<T>) => unknown

export interface StreamStats {
  name: string
  group: string
  consumer: string
  published: number
  processed: number
  acked: number
  failed: number
  claimed: number
  /** Times another running consumer was seen using the same consumer name. */
  nameConflicts: number
  running: boolean
}

export interface ReplayOptions {
  /** Most entries per round trip. */
  pageSize?: number
  signal?: AbortSignal
}

const EMPTY_CURSOR = '0-0'
/** How long stop() waits for running handlers; what they leave unacknowledged is reclaimed later. */
export const STOP_TIMEOUT_MS = 5000
/** How long a consumer name stays marked as in use without a refresh. */
const MARK_TTL_MS = 6000

export function toMessage<T> (channel: string, entry: StreamEntry): PubsubMessage<T> | undefined {
  if (entry.payload === null) return undefined
  const message = decodeMessage(entry.payload, channel) as PubsubMessage<T> | undefined
  if (message !== undefined) message.streamId = entry.id
  return message
}

export function checkId (id: unknown): string {
  if (typeof id !== 'string' || !STREAM_ID.test(id) || id === '$') {
    throw new PubsubInvalidIdError(`expected a stream id such as '0' or '1700000000000-0', got ${JSON.stringify(id)}`)
  }
  return id
}

/**
 * A durable channel on a Redis Stream with a consumer group. Delivery is at
 * least once: an entry is acknowledged only after its handler succeeds, and
 * entries left pending by a crashed or failing consumer are reclaimed.
 */
export class DurableStream<T = unknown> {
  private readonly counters = { published: 0, processed: 0, acked: 0, failed: 0, claimed: 0, nameConflicts: 0 }
  /** Tells this consumer's mark from another one's, even in the same process. */
  private readonly token = randomUUID()
  private handler: StreamHandler<T> | undefined
  private reader: StreamReader | undefined
  private loop: Promise<void> | undefined
  private stopped = false
  private groupReady: Promise<void> | undefined
  private marked = false

  constructor (
    readonly name: string,
    readonly key: string,
    readonly options: ResolvedStreamOptions,
    private readonly host: StreamHost
  ) {}

  /** Appends a message; resolves to its stream id. */
  async publish (data: T): Promise<string> {
    const payload = this.host.encode(this.name, data)
    const id = await this.host.transport.add(this.key, payload, this.options.maxLen, this.options.ttlMs)
    this.counters.published++
    if (this.options.notify) {
      const live = `${payload.slice(0, -1)},"i":"${id}"}`
      // The entry is already durable; a failed live notification only costs live listeners.
      this.host.notify(this.name, live).catch((err: Error) => {
        this.host.log.debug({ channel: this.name, err: err.message }, 'redkit pubsub: stream notification not published')
      })
    }
    return id
  }

  private async ensureGroup (): Promise<void> {
    this.groupReady ??= this.host.transport.ensureGroup(this.key, this.options.group, this.options.start, this.options.ttlMs)
      .catch((err: unknown) => {
        this.groupReady = undefined
        throw err
      })
    await this.groupReady
  }

  /** Starts consuming in the group. Resolves, once the group exists, to a function that stops it. */
  async subscribe (handler: StreamHandler<T>): Promise<() => Promise<void>> {
    if (typeof handler !== 'function') throw new PubsubInvalidHandlerError()
    if (this.handler !== undefined) throw new PubsubStreamRunningError(this.name)
    await this.ensureGroup()
    this.handler = handler
    this.stopped = false
    this.reader = this.host.transport.reader()
    this.loop = this.run()
    return async () => { await this.stop() }
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.reader?.close()
    if (this.loop !== undefined) {
      const finished = await Promise.race([this.loop.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })])
      if (!finished) {
        this.host.log.warn({ stream: this.name, group: this.options.group, timeoutMs: STOP_TIMEOUT_MS },
          'redkit pubsub: stream handlers still running at stop; their entries stay pending and will be reclaimed')
      }
    }
    this.loop = undefined
    this.reader = undefined
    this.handler = undefined
    // A clean stop frees the name at once, so a restart under it is not taken for a second process.
    if (this.marked) await this.host.transport.unmarkConsumer(this.host.consumerKey, this.token).catch(() => {})
    this.marked = false
  }

  private active (): boolean {
    return !this.stopped && !this.host.isClosed()
  }

  private async run (): Promise<void> {
    const { group, consumer, batch, blockMs, claimIdleMs } = this.options
    const claimEvery = Math.max(50, Math.floor(claimIdleMs / 2))
    let lastClaim = 0
    let lastMark = 0
    let starting = true
    let failures = 0
    // Entries this consumer name read before a restart (and never acknowledged) come first,
    // without waiting claimIdleMs: with a stable name (the plugin's `worker`) they are its own.
    let readId = '0'
    while (this.active()) {
      try {
        if (Date.now() - lastMark >= MARK_TTL_MS / 3) {
          lastMark = Date.now()
          await this.mark(starting)
          starting = false
        }
        if (Date.now() - lastClaim >= claimEvery) {
          lastClaim = Date.now()
          await this.claim()
        }
        const entries = await this.reader!.readGroup(this.key, group, consumer, batch, blockMs, readId)
        // Past the pending entries just read, so ones that fail again are not re-read in a loop.
        if (readId !== '>') readId = entries.length < batch ? '>' : entries.at(-1)!.id
        if (!this.active()) break
        await this.process(entries)
        failures = 0
      } catch (err) {
        if (!this.active()) break
        failures++
        this.host.log.warn({ stream: this.name, group, err: (err as Error).message }, 'redkit pubsub: stream read failed; retrying')
        await sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)))
        if ((err as Error).message.includes('NOGROUP')) this.groupReady = undefined
        if (this.groupReady === undefined) await this.ensureGroup().catch(() => {})
      }
    }
  }

  /**
   * Redis cannot tell two processes using one consumer name apart, so each
   * running consumer marks the name with a token of its own: finding another
   * token at start may be a predecessor that crashed moments ago, but finding
   * one on a refresh means another live consumer wrote it since.
   */
  private async mark (starting: boolean): Promise<void> {
    this.marked = true
    const other = await this.host.transport.markConsumer(this.host.consumerKey, this.token, MARK_TTL_MS)
    if (other === null) return
    const info = { stream: this.name, group: this.options.group, consumer: this.options.consumer }
    if (starting) {
      this.host.log.warn(info, 'redkit pubsub: stream consumer name was in use moments ago, by a process that stopped or by another running one; names must be unique per running process')
      return
    }
    this.counters.nameConflicts++
    this.host.log.error(info, 'redkit pubsub: another running consumer uses the same consumer name; entries in flight may be processed twice. Give each process its own worker name')
  }

  /** Takes over entries that another consumer left pending for longer than claimIdleMs. */
  private async claim (): Promise<void> {
    const { group, consumer, claimIdleMs, batch } = this.options
    let cursor = EMPTY_CURSOR
    do {
      const result = await this.host.transport.autoclaim(this.key, group, consumer, claimIdleMs, cursor, batch)
      cursor = result.cursor
      if (result.entries.length > 0) {
        this.counters.claimed += result.entries.length
        this.host.log.info({ stream: this.name, group, count: result.entries.length }, 'redkit pubsub: reclaimed pending stream entries')
        await this.process(result.entries)
      }
    } while (cursor !== EMPTY_CURSOR && this.active())
  }

  private async process (entries: StreamEntry[]): Promise<void> {
    if (entries.length === 0) return
    const done: string[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < entries.length && this.active()) {
        const entry = entries[next++]!
        if (await this.handle(entry)) done.push(entry.id)
      }
    }
    const workers = Math.min(this.options.concurrency, entries.length)
    await Promise.all(Array.from({ length: workers }, worker))
    if (done.length > 0) {
      this.counters.acked += await this.host.transport.ack(this.key, this.options.group, done)
    }
  }

  private async handle (entry: StreamEntry): Promise<boolean> {
    const message = toMessage<T>(this.name, entry)
    // Trimmed or unreadable entries can never succeed; acknowledging them stops endless reclaiming.
    if (message === undefined) return true
    try {
      await this.handler!(message)
      this.counters.processed++
      return true
    } catch (err) {
      this.counters.failed++
      this.host.log.error({ err, stream: this.name, group: this.options.group, streamId: entry.id },
        'redkit pubsub: stream handler failed; the entry stays pending and will be retried')
      return false
    }
  }

  /** Reads entries after `fromId` (exclusive), oldest first, up to the end of the stream. */
  async * replay (fromId = '0', opts: ReplayOptions = {}): AsyncGenerator<PubsubMessage<T>> {
    let after = checkId(fromId)
    const pageSize = opts.pageSize ?? 100
    while (opts.signal?.aborted !== true) {
      const page = await this.host.transport.range(this.key, after, pageSize)
      for (const entry of page) {
        const message = toMessage<T>(this.name, entry)
        if (message !== undefined) yield message
      }
      if (page.length < pageSize) return
      after = page.at(-1)!.id
    }
  }

  stats (): StreamStats {
    return {
      name: this.name,
      group: this.options.group,
      consumer: this.options.consumer,
      ...this.counters,
      running: this.loop !== undefined && !this.stopped
    }
  }
}
