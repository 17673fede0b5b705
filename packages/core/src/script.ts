import { createHash } from 'node:crypto'
import { Command } from 'ioredis'
import type { RedisClient } from './connection.js'
import type { RedkitScript } from './index.js'
import { commandChosenAtWrite, type CommandClass } from './ioredis-internals.js'

type Arg = string | number | Buffer

/*
 * A script's call builds its EVALSHA command itself and hands it to the
 * client's sendCommand, where core's deadline, breaker and Cluster routing
 * see it like any other command. ioredis' defineCommand did the same through
 * a command class that wraps reject and rewrites itself on every write, plus
 * argument copies and an auto-pipelining check per call: about a tenth of a
 * lock's client CPU.
 *
 * A server that does not know the script (after a restart, failover or
 * SCRIPT FLUSH) answers NOSCRIPT, and the call is sent again as EVAL, which
 * also loads it for the next calls. Keys get the client's own ioredis
 * keyPrefix when a provided client has one, as defineCommand did.
 */
export function scriptRunner<T> (client: RedisClient, lua: string, numberOfKeys: number | undefined): RedkitScript<T> {
  const sha = createHash('sha1').update(lua).digest('hex')
  const keyPrefix = (client.options as { keyPrefix?: string }).keyPrefix
  const options = keyPrefix === undefined || keyPrefix === '' ? { replyEncoding: 'utf8' as const } : { replyEncoding: 'utf8' as const, keyPrefix }
  // The first call on each socket (each Cluster node, each reconnect) is an EVAL, which loads
  // the script, so a fresh connection does not pay a NOSCRIPT round trip per script.
  const loaded = new WeakSet<object>()
  // Where each call went, so a NOSCRIPT reply unmarks that socket only.
  type Sent = { socket?: object }
  const ScriptCommand = commandChosenAtWrite(Command as unknown as CommandClass, (command, socket) => {
    (command as Sent).socket = socket
    if (loaded.has(socket)) {
      command.name = 'evalsha'
      command.args[0] = sha
    } else {
      loaded.add(socket)
      command.name = 'eval'
      command.args[0] = lua
    }
  })

  const argsOf = (keys: string[], args: Arg[]): Arg[] => {
    const out: Arg[] = [sha, numberOfKeys ?? keys.length]
    for (let i = 0; i < keys.length; i++) out.push(keys[i]!)
    for (let i = 0; i < args.length; i++) out.push(args[i]!)
    return out
  }
  const send = (command: object): Promise<T> => client.sendCommand(command as Command) as Promise<T>
  // The prefix is applied when a command is built, so the retry is built from the caller's keys, not the sent ones.
  const reload = (command: object, keys: string[], args: Arg[]) => async (err: Error): Promise<T> => {
    if (!err.message.includes('NOSCRIPT')) throw err
    const socket = (command as Sent).socket
    if (socket !== undefined) loaded.delete(socket)
    return await send(new ScriptCommand('evalsha', argsOf(keys, args), options))
  }

  return (keys, args = []) => {
    const command = new ScriptCommand('evalsha', argsOf(keys, args), options)
    return send(command).catch(reload(command, keys, args))
  }
}
