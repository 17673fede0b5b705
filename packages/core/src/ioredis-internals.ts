import type { Writable } from 'node:stream'

/*
 * Every use core makes of ioredis beyond its documented API sits in this file.
 * ioredis does not promise any of it, so test/ioredis-internals.test.ts checks
 * each on a real client of the installed ioredis, and
 * test/ioredis5.test.ts runs the same checks on ioredis 5, the other major the
 * peer range names. A change there fails those tests, not production.
 */

/** What core reads and writes on an ioredis Command. */
export interface IoredisCommand {
  name: string
  reject: (err: Error) => void
  promise: Promise<unknown>
  /** ioredis 6: set once resolved or rejected. */
  isSettled?: boolean
  /** ioredis 5 and 6: set once resolved. */
  isResolved?: boolean
}

export type SendCommand<C> = (command: C, ...rest: unknown[]) => unknown

/**
 * Replaces the client's sendCommand, through which ioredis sends every
 * command (the typed methods, pipelines' flush, the offline queue's resend).
 * `wrap` gets the original, bound to the client.
 */
export function interceptSendCommand<C extends IoredisCommand> (client: object, wrap: (original: SendCommand<C>) => SendCommand<C>): void {
  const own = client as { sendCommand: (...args: unknown[]) => unknown }
  const original = own.sendCommand.bind(client) as SendCommand<C>
  Object.defineProperty(client, 'sendCommand', { value: wrap(original), writable: true, configurable: true })
}

/** True once the command got its reply or was rejected. */
export function isSettled (command: IoredisCommand): boolean {
  return command.isSettled === true || command.isResolved === true
}

/** ioredis' queues (denque) of commands waiting for a reply or for a connection. */
export interface CommandQueue<C extends IoredisCommand = IoredisCommand> {
  length: number
  peekAt: (index: number) => { command: C } | undefined
}

interface Queues {
  commandQueue?: CommandQueue
  offlineQueue?: CommandQueue
}

/** The command at `index` of a queue, oldest first. */
export function queuedCommand<C extends IoredisCommand> (queue: CommandQueue<C>, index: number): C | undefined {
  return queue.peekAt(index)?.command
}

/** The offline queue (sent before a connection) then the command queue (sent, unanswered), in send order. */
export function pendingQueues (client: object): CommandQueue[] {
  const { offlineQueue, commandQueue } = client as Queues
  return [offlineQueue, commandQueue].filter((queue): queue is CommandQueue => queue !== undefined)
}

/** Commands waiting for a connection. */
export function offlineQueueLength (client: object): number {
  return (client as Queues).offlineQueue?.length ?? 0
}

/** The socket a single connection writes its commands to, while it has one. */
export function socketStream (client: object): Writable | undefined {
  return (client as { stream?: Writable }).stream
}

/** The part of ioredis' Command class core builds commands from. */
export type CommandClass = new (name: string, args: unknown[], options: Record<string, unknown>) => IoredisCommand & { args: unknown[] }

/**
 * A Command class whose name and arguments are chosen as ioredis writes it,
 * with the socket it goes to: ioredis calls toWritable(socket) at that
 * moment, and its own Script class picks EVAL or EVALSHA there the same way.
 */
export function commandChosenAtWrite (Base: CommandClass, choose: (command: InstanceType<CommandClass>, socket: object) => void): CommandClass {
  const base = Base as unknown as new (...args: ConstructorParameters<CommandClass>) => InstanceType<CommandClass>
  const write = (Base.prototype as { toWritable: (this: object, socket: object) => unknown }).toWritable
  return class extends base {
    toWritable (socket: object): unknown {
      choose(this, socket)
      return write.call(this, socket)
    }
  }
}

/** Calls `listener` with each node connection a Cluster client opens ('+node'). */
export function onClusterNode<N> (cluster: { on: (event: string, listener: (node: N) => void) => unknown }, listener: (node: N) => void): void {
  cluster.on('+node', listener)
}

/** The message of the timeout ioredis' own commandTimeout rejects a command with. */
export const IOREDIS_TIMEOUT_MESSAGE = 'Command timed out'

/** How ioredis' MaxRetriesPerRequestError begins: the command outlived maxRetriesPerRequest reconnects. */
export const MAX_RETRIES_PREFIX = 'Reached the max retries'

/** Starts of ioredis' own errors for a connection or Cluster that cannot serve a command now. */
export const IOREDIS_UNAVAILABLE_PREFIXES = [
  MAX_RETRIES_PREFIX, 'Connection is closed.', 'Stream isn\'t writeable', 'None of startup nodes',
  'Cluster isn\'t ready', 'Cluster is ended.', 'Too many Cluster redirections'
]

/** ioredis gave up on the command after maxRetriesPerRequest reconnect attempts. */
export function isMaxRetriesError (err: Error): boolean {
  return err.message.startsWith(MAX_RETRIES_PREFIX)
}
