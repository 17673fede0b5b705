import type { FastifyInstance } from 'fastify'
import { code, sleep } from './helpers.js'

/** A shared resource that detects overlapping holders and fencing tokens going backward. */
export class Resource {
  holder: string | null = null
  lastToken = 0
  overlaps = 0
  decreases = 0
  entries = 0
  /** Called after each entry with the number of entries so far. */
  onEnter: (entries: number) => void = () => {}

  enter (who: string, token: number): void {
    if (this.holder !== null) this.overlaps++
    if (token <= this.lastToken) this.decreases++
    this.lastToken = Math.max(this.lastToken, token)
    this.holder = who
    this.entries++
    this.onEnter(this.entries)
  }

  exit (who: string): void {
    if (this.holder === who) this.holder = null
  }
}

export interface RunResult {
  resource: Resource
  errors: Map<string, number>
  uncoded: unknown[]
}

/** Workers spread over the apps take `total` acquisitions of one lock between them. */
export async function runWorkers (apps: FastifyInstance[], workers: number, total: number, name: string, resource = new Resource()): Promise<RunResult> {
  const errors = new Map<string, number>()
  const uncoded: unknown[] = []
  let remaining = total
  const worker = async (id: number): Promise<void> => {
    const app = apps[id % apps.length]!
    const who = `w${id}`
    while (remaining > 0) {
      try {
        const lock = await app.locks.acquire(name, { ttl: 2000, timeout: 10_000 })
        if (remaining <= 0) {
          await lock.release()
          return
        }
        remaining--
        resource.enter(who, lock.token)
        await new Promise((resolve) => setImmediate(resolve))
        resource.exit(who)
        await lock.release()
      } catch (err) {
        resource.exit(who)
        const c = code(err)
        if (c === undefined || !c.startsWith('FST_REDKIT_LOCK_')) uncoded.push(err)
        errors.set(c ?? 'uncoded', (errors.get(c ?? 'uncoded') ?? 0) + 1)
        await sleep(50)
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, async (_, i) => await worker(i)))
  return { resource, errors, uncoded }
}
