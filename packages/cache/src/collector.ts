import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient, RedkitScript } from '@redkit/core'

const BATCH = 100
const MAX_QUEUED = 1_000

interface Job {
  set: string
  tag: string
  version: number
}

/**
 * Deletes the entries of invalidated tags in the background, BATCH entries
 * per script, so Redis is never busy with one invalidation for longer than a
 * batch takes. Correctness never waits on it: invalidated entries are already
 * misses by their tag version; this only frees their memory before their TTL
 * does. One job runs at a time; the queue is bounded, and a job it drops (or
 * one lost with the process) leaves entries that simply expire.
 */
export class Collector {
  private readonly queue: Job[] = []
  private running: Promise<void> | null = null
  private closed = false

  constructor (
    private readonly client: RedisClient,
    private readonly collect: RedkitScript<number>,
    private readonly log: FastifyBaseLogger
  ) {}

  add (set: string, tag: string, version: number): void {
    if (this.closed) return
    if (this.queue.length >= MAX_QUEUED) {
      this.log.warn({ tag }, 'redkit cache: too many invalidations awaiting collection; this one\'s entries are left to expire')
      return
    }
    this.queue.push({ set, tag, version })
    this.running ??= this.drain().finally(() => { this.running = null })
  }

  private async drain (): Promise<void> {
    for (let job = this.queue.shift(); job !== undefined && !this.closed; job = this.queue.shift()) {
      try {
        await this.run(job)
      } catch (err) {
        this.log.debug({ tag: job.tag, err: (err as Error).message }, 'redkit cache: collecting an invalidated tag failed; its entries expire with their TTL')
      }
    }
  }

  private async run (job: Job): Promise<void> {
    while (!this.closed) {
      const members = await this.client.zrange(job.set, '0', String(BATCH - 1))
      if (members.length === 0) return
      await this.collect([job.set, ...members], [job.tag, job.version])
    }
  }

  /** Settles once the queue is empty (for tests and shutdown). */
  async idle (): Promise<void> {
    while (this.running !== null) await this.running
  }

  async close (): Promise<void> {
    this.closed = true
    this.queue.length = 0
    await this.idle()
  }
}
