import type { FastifyBaseLogger } from 'fastify'
import type { Redkit, RedisClient } from '@redkit/core'
import { failWhileMigrating } from '@redkit/core/kit'
import { SCRIPTS } from './lua.js'

// The rename needs both names on one side of a migrating slot: rather than
// wait out the move (the caller of invalidate() waits for the count), it fails
// at once and the members are left to expire.
failWhileMigrating(SCRIPTS.detach.lua)

const BATCH = 100
const MAX_QUEUED = 1_000

interface Job {
  set: string
  tag: string
  version: number
}

/** A script on this connection: keys then arguments, after the key count when it varies. */
type Script = (...args: Array<string | number>) => Promise<number>

/**
 * Deletes the entries of invalidated tags in the background, one batch of
 * entries per script, so Redis is never busy with one invalidation for
 * longer than a batch takes. Correctness never waits on it: invalidated
 * entries are already misses by their tag version; this only frees their
 * memory before their TTL does. One job runs at a time; the queue is
 * bounded, and a job it drops (or one lost with the process) leaves entries
 * that simply expire.
 *
 * It works on a connection of its own: its scripts take several keys, some
 * of them new, which a Cluster slot in migration refuses (TRYAGAIN) until
 * the migration ends, and such failures must not make the connection that
 * serves reads fail fast.
 */
export class Collector {
  private readonly queue: Job[] = []
  private running: Promise<void> | null = null
  private closed = false
  private connection: RedisClient | null = null

  constructor (private readonly redkit: Redkit, private readonly log: FastifyBaseLogger) {}

  private client (): RedisClient {
    if (this.connection === null) {
      const client = this.redkit.duplicate()
      for (const { name, lua, keys } of [SCRIPTS.detach, SCRIPTS.collect]) {
        client.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: keys })
      }
      this.connection = client
    }
    return this.connection
  }

  private script (name: typeof SCRIPTS.detach.name | typeof SCRIPTS.collect.name): Script {
    const client = this.client() as unknown as Record<string, Script>
    return client[name]!.bind(client)
  }

  /** Renames the tag's member set away so later writes file into a fresh one; how many members had not expired. */
  async detach (set: string, detached: string): Promise<number> {
    if (this.closed) return 0
    return await this.script(SCRIPTS.detach.name)(set, detached)
  }

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
    const collect = this.script(SCRIPTS.collect.name)
    while (!this.closed) {
      const members = await this.client().zrange(job.set, '0', String(BATCH - 1))
      if (members.length === 0) return
      await collect(members.length + 1, job.set, ...members, job.tag, job.version)
    }
  }

  /** Settles once the queue is empty. */
  async idle (): Promise<void> {
    while (this.running !== null) await this.running
  }

  async close (): Promise<void> {
    this.closed = true
    this.queue.length = 0
    await this.idle()
  }
}
