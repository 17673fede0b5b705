import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from '@redkit/testing'
import {
  commandChosenAtWrite, interceptSendCommand, IOREDIS_TIMEOUT_MESSAGE, IOREDIS_UNAVAILABLE_PREFIXES, isMaxRetriesError, isSettled,
  offlineQueueLength, onClusterNode, pendingQueues, queuedCommand, socketStream, type CommandClass, type IoredisCommand
} from '../src/ioredis-internals.js'

interface Client {
  status: string
  connect: () => Promise<void>
  disconnect: () => void
  ping: () => Promise<string>
  get: (key: string) => Promise<string | null>
  blpop: (key: string, timeout: number) => Promise<unknown>
  on: (event: string, listener: (...args: any[]) => void) => unknown
}
type ClientClass = new (...args: any[]) => Client
/** The part of an ioredis module the checks use: ioredis 6 from the workspace, or 5 from a temp dir. */
export interface IoredisModule { Redis: ClientClass, Cluster: ClientClass, Command: CommandClass }

type T = Test

function sources (dir: string): string {
  return readdirSync(dir).map((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.js') ? readFileSync(path, 'utf8') : ''
  }).join('\n')
}

/** Checks every ioredis internal core relies on, against a real single Redis and Cluster. */
export async function checkInternals (t: T, io: IoredisModule, root: string, redis: { host: string, port: number }, clusterNodes: Array<{ host: string, port: number }>): Promise<void> {
  const single = (options: Record<string, unknown> = {}): Client => {
    const client = new io.Redis({ host: redis.host, port: redis.port, lazyConnect: true, ...options })
    client.on('error', () => {})
    t.teardown(() => client.disconnect())
    return client
  }

  await t.test('sendCommand receives every command, with name, reject and promise', async (t) => {
    const client = single()
    const seen: IoredisCommand[] = []
    interceptSendCommand<IoredisCommand>(client, (original) => (command, ...rest) => {
      seen.push(command)
      return original(command, ...rest)
    })
    t.equal(await client.ping(), 'PONG')
    const ping = seen.find((c) => c.name === 'ping')
    t.ok(ping !== undefined, 'the typed method went through sendCommand')
    t.equal(typeof ping!.reject, 'function')
    t.ok(ping!.promise instanceof Promise)
    t.ok(isSettled(ping!), 'a resolved command is marked settled')
  })

  await t.test('a command sent before the connection waits in the offline queue', async (t) => {
    const client = single()
    const reply = client.ping()
    t.equal(offlineQueueLength(client), 1)
    const [offline] = pendingQueues(client)
    t.equal(queuedCommand(offline!, 0)?.name, 'ping')
    t.equal(await reply, 'PONG')
  })

  await t.test('a sent command waits in the command queue until its reply', async (t) => {
    const client = single()
    await client.connect()
    const reply = client.blpop('redkit-internals-none', 1)
    const queues = pendingQueues(client)
    t.equal(queues.length, 2, 'offline and command queues')
    const command = queuedCommand(queues[1]!, queues[1]!.length - 1)
    t.equal(command?.name, 'blpop')
    t.ok(!isSettled(command!), 'not settled before its reply')
    await reply
    t.ok(isSettled(command!), 'settled after its reply')
  })

  await t.test('commands are written to the socket during sendCommand, so corking batches them', async (t) => {
    const client = single()
    await client.connect()
    const stream = socketStream(client)!
    t.ok(stream.writable && typeof stream.cork === 'function')
    stream.cork()
    const replies = [client.ping(), client.ping(), client.ping()]
    t.ok(stream.writableLength > 0, 'the writes wait in the corked socket')
    stream.uncork()
    t.equal((await Promise.all(replies)).join(), 'PONG,PONG,PONG')
  })

  await t.test('a Command learns its socket as it is written, and may change its name and arguments then', async (t) => {
    const client = single()
    await client.connect()
    const sockets: object[] = []
    const Echo = commandChosenAtWrite(io.Command, (command, socket) => {
      sockets.push(socket)
      command.name = 'echo'
      command.args[0] = 'chosen at write'
    })
    const send = (client as unknown as { sendCommand: (c: object) => Promise<unknown> }).sendCommand.bind(client)
    t.equal(await send(new Echo('ping', ['placeholder'], { replyEncoding: 'utf8' })), 'chosen at write')
    t.equal(sockets[0], socketStream(client), 'toWritable got the connection\'s socket')
  })

  await t.test('ioredis rejects with the messages core classifies', async (t) => {
    const slow = single({ commandTimeout: 50 })
    await t.rejects(slow.blpop('redkit-internals-none', 1), { message: IOREDIS_TIMEOUT_MESSAGE })
    const gone = single({ port: await freePort(), maxRetriesPerRequest: 0, retryStrategy: () => 50 })
    const err = await gone.ping().catch((e: Error) => e)
    t.ok(err instanceof Error && isMaxRetriesError(err), String(err))
    const text = sources(join(root, 'built'))
    for (const prefix of IOREDIS_UNAVAILABLE_PREFIXES) t.ok(text.includes(prefix), `ioredis still says "${prefix}"`)
  })

  await t.test('a Cluster announces each node connection, whose sendCommand writes its commands', async (t) => {
    const cluster = new io.Cluster(clusterNodes, { lazyConnect: true })
    cluster.on('error', () => {})
    t.teardown(() => cluster.disconnect())
    const nodeCommands: string[] = []
    let nodes = 0
    onClusterNode<Client>(cluster, (node) => {
      nodes++
      interceptSendCommand<IoredisCommand>(node, (original) => (command, ...rest) => {
        nodeCommands.push(command.name)
        return original(command, ...rest)
      })
    })
    const clusterCommands: string[] = []
    interceptSendCommand<IoredisCommand>(cluster, (original) => (command, ...rest) => {
      clusterCommands.push(command.name)
      return original(command, ...rest)
    })
    // Sent before the Cluster is ready: it waits in the Cluster's own offline queue.
    const early = cluster.get('redkit-internals')
    t.equal(offlineQueueLength(cluster), 1)
    t.equal(queuedCommand(pendingQueues(cluster)[0]!, 0)?.name, 'get')
    await early
    t.ok(clusterCommands.includes('get'), 'the Cluster\'s typed method went through its sendCommand')
    t.ok(nodes >= clusterNodes.length, `${nodes} nodes announced`)
    t.ok(nodeCommands.includes('get'), 'the node connection sent the Cluster command')
  })
}
