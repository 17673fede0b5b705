import type { ClusterOptions, Redis } from 'ioredis'
import { SWEEP_INTERVAL } from './deadlines.js'
import { interceptSendCommand, IOREDIS_TIMEOUT_MESSAGE, isSettled, type IoredisCommand } from './ioredis-internals.js'
import { createHash } from 'node:crypto'
import { classifyError, RedkitUnavailableError } from './errors.js'

/** Pause before a command that got TRYAGAIN (keys split by a slot move) is sent again. */
export const TRYAGAIN_DELAY = 50
/** Pause before a command that got CLUSTERDOWN (e.g. during a failover) is sent again. */
export const CLUSTERDOWN_DELAY = 100

/**
 * Retries during slot moves and failovers last until the command's deadline,
 * not a redirection count: with ioredis' 16 redirections a script on keys of a
 * migrating slot gave up in about half a second. One TRYAGAIN round can take
 * four redirections (a random node, MOVED, ASK, TRYAGAIN), so the count allows
 * a deadline's worth of rounds; it still bounds a MOVED ping-pong, which has no
 * delay. Core's own deadline (trackClusterDeadlines) ends the retries.
 */
export function clusterRetryOptions (commandTimeout: number): Partial<ClusterOptions> {
  return {
    maxRedirections: Math.ceil(commandTimeout / TRYAGAIN_DELAY) * 4 + 16,
    retryDelayOnTryAgain: TRYAGAIN_DELAY,
    retryDelayOnClusterDown: CLUSTERDOWN_DELAY,
    retryDelayOnMoved: 0
  }
}

/*
 * Scripts whose caller has a single-key way to do the same work: while their
 * slot is split by a migration, a TRYAGAIN fails them at once rather than
 * after a deadline of retries. Known by their text and SHA1, as ioredis sends
 * them with EVALSHA, or EVAL after a NOSCRIPT.
 */
const failOnTryAgain = new Set<string>()

export function markFailOnTryAgain (lua: string): void {
  failOnTryAgain.add(lua)
  failOnTryAgain.add(createHash('sha1').update(lua).digest('hex'))
}

function failsOnTryAgain (command: ClusterCommand): boolean {
  const first = command.args?.[0]
  return (command.name === 'evalsha' || command.name === 'eval') && typeof first === 'string' && failOnTryAgain.has(first)
}

export interface ClusterCommand extends IoredisCommand {
  args?: unknown[]
  redkitSentAt?: number
  /** Set once core's deadline has failed the command: ioredis must not send it again. */
  redkitExpired?: boolean
  /** Past its deadline at the last sweep: failed at the next one if still unanswered. */
  redkitOverdue?: boolean
  /** The last error a node answered, kept while ioredis retries. */
  redkitLastError?: Error
}

interface Tracked {
  command: ClusterCommand
  /** Core's reject, under ioredis' redirection handler. */
  fail: (err: Error) => void
}

/**
 * The deadline of a Cluster command covers all its attempts. ioredis retries a
 * command on MOVED, ASK, TRYAGAIN and CLUSTERDOWN from a delay queue where no
 * node's timer sees it; core keeps the commands it sent in order and, every
 * sweep, fails those past the deadline. A command that was still being
 * redirected fails as unavailable (the slot could not serve it in time), one
 * waiting for a reply as timed out.
 */
export class ClusterDeadlines {
  private queue: Tracked[] = []
  private head = 0
  private readonly timer: NodeJS.Timeout

  constructor (private readonly timeout: number) {
    this.timer = setInterval(() => this.sweep(performance.now()), SWEEP_INTERVAL)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.queue = []
    this.head = 0
  }

  /** Called after ioredis wrapped the command's reject, so the node replies are seen. */
  add (command: ClusterCommand, fail: (err: Error) => void): void {
    const handler = command.reject
    command.reject = (err: Error) => {
      // A node's own timer fires at the same deadline; while ioredis was
      // redirecting the command, the cause is the slot, not a silent node.
      if (err.message === IOREDIS_TIMEOUT_MESSAGE && this.redirected(command)) {
        command.redkitExpired = true
        fail(this.expiryError(command))
        return
      }
      if (err.message.startsWith('TRYAGAIN') && failsOnTryAgain(command)) {
        command.redkitExpired = true
        fail(new RedkitUnavailableError(`the Cluster slot of the script's keys is being migrated (${err.message})`, { cause: err }))
        return
      }
      command.redkitLastError = err
      handler(err)
    }
    this.queue.push({ command, fail })
  }

  private sweep (now: number): void {
    const { queue } = this
    for (let i = this.head; i < queue.length; i++) {
      const { command, fail } = queue[i]!
      if (isSettled(command) || command.redkitExpired === true) continue
      if (command.redkitSentAt !== undefined && now - command.redkitSentAt < this.timeout) break
      // As in deadlines.ts: first marked, failed at the next sweep, after the loop read its sockets.
      if (command.redkitOverdue !== true) {
        command.redkitOverdue = true
        continue
      }
      command.redkitExpired = true
      fail(this.expiryError(command))
    }
    while (this.head < queue.length) {
      const { command } = queue[this.head]!
      if (!isSettled(command) && command.redkitExpired !== true) break
      queue[this.head++] = undefined as unknown as Tracked
    }
    if (this.head > 1024 && this.head * 2 > queue.length) {
      this.queue = queue.slice(this.head)
      this.head = 0
    }
  }

  private redirected (command: ClusterCommand): boolean {
    const last = command.redkitLastError
    return last !== undefined && classifyError(last) === 'unavailable'
  }

  private expiryError (command: ClusterCommand): Error {
    const last = command.redkitLastError
    if (last !== undefined && this.redirected(command)) {
      return new RedkitUnavailableError(`the Cluster could not serve the command within ${this.timeout} ms (last reply: ${last.message})`, { cause: last })
    }
    return new Error(IOREDIS_TIMEOUT_MESSAGE)
  }
}

/** Gives a node connection the write coalescing of a single Redis; never resends an expired command. */
export function patchNode (node: Redis, coalesce: () => void): void {
  interceptSendCommand<ClusterCommand>(node, (original) => (command, ...rest) => {
    if (command.redkitExpired === true) return command.promise
    if (node.status === 'ready') coalesce()
    return original(command, ...rest)
  })
}
