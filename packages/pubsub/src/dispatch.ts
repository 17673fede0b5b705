import type { FastifyBaseLogger } from 'fastify'

export interface DispatchStats {
  delivered: number
  handlerErrors: number
  slowHandlers: number
  dropped: number
}

export interface SlotOptions {
  concurrency: number
  maxPending: number
  slowHandlerMs: number
  skipSelf: boolean
}

/**
 * Runs one handler with its own queue and concurrency limit, so a throwing or
 * slow handler affects only itself: errors are logged, and when its queue is
 * full the oldest waiting message is dropped and counted.
 */
export class HandlerSlot<M extends { channel: string }> {
  private active = 0
  private readonly queue: M[] = []
  private closed = false
  private dropWarned = 0

  constructor (
    private readonly handler: (message: M) => unknown,
    readonly options: SlotOptions,
    private readonly stats: DispatchStats,
    private readonly log: FastifyBaseLogger
  ) {}

  push (message: M): void {
    if (this.closed) return
    if (this.active < this.options.concurrency) {
      this.start(message)
      return
    }
    if (this.queue.length >= this.options.maxPending) {
      this.queue.shift()
      this.stats.dropped++
      const now = Date.now()
      if (now - this.dropWarned > 5000) {
        this.dropWarned = now
        this.log.warn({ channel: message.channel, maxPending: this.options.maxPending, handler: this.handler.name || 'anonymous' },
          'redkit pubsub: handler cannot keep up; dropping its oldest queued messages')
      }
    }
    this.queue.push(message)
  }

  private start (message: M): void {
    this.active++
    const started = performance.now()
    let result: unknown
    try {
      result = this.handler(message)
    } catch (err) {
      this.failed(err, message)
      this.finish(started, message)
      return
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => { this.finish(started, message); this.drain() },
        (err: unknown) => { this.failed(err, message); this.finish(started, message); this.drain() }
      )
      return
    }
    this.finish(started, message)
  }

  private finish (started: number, message: M): void {
    this.active--
    this.stats.delivered++
    const ms = performance.now() - started
    if (ms > this.options.slowHandlerMs) {
      this.stats.slowHandlers++
      this.log.warn({ channel: message.channel, ms: Math.round(ms), handler: this.handler.name || 'anonymous' },
        'redkit pubsub: slow message handler')
    }
  }

  private failed (err: unknown, message: M): void {
    this.stats.handlerErrors++
    this.log.error({ err, channel: message.channel, handler: this.handler.name || 'anonymous' }, 'redkit pubsub: message handler failed')
  }

  /** A loop rather than recursion: a long queue of synchronous handlers must not grow the stack. */
  private drain (): void {
    while (!this.closed && this.active < this.options.concurrency && this.queue.length > 0) {
      this.start(this.queue.shift()!)
    }
  }

  get pending (): number {
    return this.queue.length + this.active
  }

  close (): void {
    this.closed = true
    this.queue.length = 0
  }
}
