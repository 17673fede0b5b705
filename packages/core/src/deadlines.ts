/** What the sweep needs of an ioredis command. */
export interface Expirable {
  isSettled?: boolean
  isResolved?: boolean
  redkitSentAt?: number
  redkitOverdue?: boolean
  reject: (err: Error) => void
}

interface QueueLike {
  length: number
  peekAt: (index: number) => { command: Expirable } | undefined
}

interface Queues {
  commandQueue?: QueueLike
  offlineQueue?: QueueLike
  once: (event: 'end', listener: () => void) => unknown
}

/** How often queues are checked; a deadline fires within two of these after it passed. */
export const SWEEP_INTERVAL = 25

/** Stamps a command as sent now; watchDeadlines() measures its age from this. */
export function stamp (command: Expirable): void {
  command.redkitSentAt = performance.now()
}

function sweep (queue: QueueLike | undefined, now: number, timeout: number): void {
  if (queue === undefined) return
  for (let i = 0; i < queue.length; i++) {
    const command = queue.peekAt(i)?.command
    if (command === undefined || command.isSettled === true || command.isResolved === true) continue
    // Commands wait in send order, so the first one in time ends the sweep.
    if (command.redkitSentAt === undefined || now - command.redkitSentAt < timeout) break
    // Timers run before the event loop reads its sockets: after the instance
    // was busy (sync work, a burst), replies that already arrived are still
    // unread. An overdue command is rejected at the next sweep, after the loop
    // has read them, so a busy instance is not taken for a slow Redis.
    if (command.redkitOverdue === true) command.reject(new Error('Command timed out'))
    else command.redkitOverdue = true
  }
}

/**
 * Per-command deadlines without a timer per command: ioredis already keeps
 * unanswered commands in order (its command and offline queues), so one
 * interval per connection rejects those older than the deadline. A rejected
 * command stays queued until its reply arrives, as with ioredis' own timeout.
 */
export function watchDeadlines (client: Queues, timeout: number): void {
  const timer = setInterval(() => {
    const now = performance.now()
    sweep(client.offlineQueue, now, timeout)
    sweep(client.commandQueue, now, timeout)
  }, SWEEP_INTERVAL)
  // Deadlines must not keep the process alive on their own.
  timer.unref()
  client.once('end', () => clearInterval(timer))
}
