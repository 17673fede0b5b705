import type { Writable } from 'node:stream'
import { socketStream } from './ioredis-internals.js'

/**
 * Most commands written together. Pieces grow to it from WRITE_FIRST, so
 * Redis starts on the first commands while the app still produces the rest:
 * with 50 lock requests in flight, acquire+release ran at about 15k pairs/s
 * written as one piece and 20–23k in pieces of 8 to 32. A burst of
 * 30,000 publishes took Redis 53 reads per 1,000 messages with a cap of 16,
 * 32 with 32 and 20 from 64 on (19 unbounded).
 */
export const WRITE_BATCH = 64

/**
 * Commands of a turn's first piece. An HTTP server sends one command per
 * request callback, a few to a dozen per turn under load: written one piece
 * at a time from a single command, a GET route under 50 connections cost
 * Redis 5.3 µs of CPU per request instead of 3.0, read in several reads a
 * turn. A burst's first piece still leaves after 16 commands, not at the end.
 */
export const WRITE_FIRST = 16

/**
 * Most characters (bytes for Buffer arguments) held back before a write: a
 * few of the 16 kB reads Redis makes of a socket. Past it a burst of large
 * commands (publishes of big payloads) would sit in memory instead of
 * reaching Redis.
 */
export const WRITE_HOLD = 64 * 1024

/** The end-of-turn write of every socket held back now, until its setImmediate runs. */
const heldNow = new Set<() => void>()

/**
 * Writes every socket held back for this turn now. A package that gathers its
 * commands in a setImmediate callback of its own calls it after sending
 * them: a setImmediate queued in that phase runs only in the next turn of the
 * loop, after a whole round of I/O callbacks, and a deadline armed at the
 * send would count that wait against Redis.
 */
export function flushWrites (): void {
  for (const release of heldNow) release()
}

/**
 * Coalesces the commands sent during one turn of the event loop into few
 * socket writes. ioredis writes each command on its own, which costs a system
 * call per command here and a read per command in Redis.
 *
 * A turn's commands leave in growing pieces: WRITE_FIRST, then twice as many
 * each time up to WRITE_BATCH (or WRITE_HOLD characters held), and the rest
 * when the turn ends. The first commands
 * reach Redis early, so it works on them while the app produces the rest,
 * and a long burst (thousands of publishes) still reaches Redis in a few
 * large reads, after each of which Redis writes to every subscriber again.
 *
 * The rest is written by setImmediate, after every I/O callback of this turn,
 * not on the next tick: an HTTP server runs one callback per request, and a
 * tick per callback wrote one GET per request (a 50-connection GET route
 * cost Redis 13 µs of CPU per request, 3 µs batched). Nothing waits for later I/O.
 *
 * Returns the hook to call before each command is written.
 */
export function writeCoalescer (client: object): () => void {
  let corked: Writable | undefined
  /** Commands held since the last write. */
  let held = 0
  /** Commands the current piece holds before it is written. */
  let piece = WRITE_FIRST
  const release = (): void => {
    const stream = corked
    if (stream === undefined) return
    corked = undefined
    heldNow.delete(release)
    stream.uncork()
  }
  return () => {
    const stream = corked
    if (stream !== undefined) {
      if (held >= piece || stream.writableLength >= WRITE_HOLD) {
        stream.uncork()
        stream.cork()
        piece = Math.min(piece * 2, WRITE_BATCH)
        held = 0
      }
      held++
      return
    }
    const socket = socketStream(client)
    if (socket === undefined || !socket.writable) return
    socket.cork()
    corked = socket
    held = 1
    piece = WRITE_FIRST
    heldNow.add(release)
    setImmediate(release)
  }
}
