import { IOREDIS_TIMEOUT_MESSAGE, isSettled, pendingQueues, queuedCommand, type CommandQueue, type IoredisCommand } from './ioredis-internals.js'

/** What the sweep needs of an ioredis command. */
export interface Expirable extends IoredisCommand {
  redkitSentAt?: number
  redkitOverdue?: boolean
}

interface Client {
  once: (event: 'end', listener: () => void) => unknown
}

/** How often queues are checked; a deadline fires within two of these after it passed. */
export const SWEEP_INTERVAL = 25

/** Stamps a command as sent now; watchDeadlines() measures its age from this. */
export function stamp (command: Expirable): void {
  command.redkitSentAt = performance.now()
}

function sweep (queue: CommandQueue<Expirable>, now: number, timeout: number): void {
  for (let i = 0; i < queue.length; i++) {
    const command = queuedCommand(queue, i)
    if (command === undefined || isSettled(command)) continue
    // Commands wait in send order, so the first one in time ends the sweep.
    if (command.redkitSentAt === undefined || now - command.redkitSentAt < timeout) break
    // Timers run before the event loop reads its sockets: after the instance
    // was busy (sync work, a burst), replies that already arrived are still
    // unread. An overdue command is rejected at the next sweep, after the loop
    // has read them, so a busy instance is not taken for a slow Redis.
    if (command.redkitOverdue === true) command.reject(new Error(IOREDIS_TIMEOUT_MESSAGE))
    else command.redkitOverdue = true
  }
}

/**
 * Per-command deadlines without a timer per command: ioredis already keeps
 * unanswered commands in order (its command and offline queues), so one
 * interval per connection rejects those older than the deadline. A rejected
 * command stays queued until its reply arrives, as with ioredis' own timeout.
 */
export function watchDeadlines (client: Client, timeout: number): void {
  const timer = setInterval(() => {
    const now = performance.now()
    // Read each time: ioredis replaces its queues when a connection closes.
    for (const queue of pendingQueues(client) as Array<CommandQueue<Expirable>>) sweep(queue, now, timeout)
  }, SWEEP_INTERVAL)
  // Deadlines must not keep the process alive on their own.
  timer.unref()
  client.once('end', () => clearInterval(timer))
}
