import { createHash } from 'node:crypto'
import { Command } from 'ioredis'
import type { RedisClient } from './connection.js'
import type { RedkitScript } from './index.js'

type Arg = string | number | Buffer

/*
 * A script's call builds its EVALSHA command itself and hands it to the
 * client's sendCommand, where core's deadline, breaker and Cluster routing
 * see it like any other command. ioredis' defineCommand did the same through
 * a command class that wraps reject and rewrites itself on every write, plus
 * argument copies and an auto-pipelining check per call: about a tenth of a
 * lock's client CPU.
 *
 * A server that does not know the script (first use on a connection, after a
 * restart, failover or SCRIPT FLUSH) answers NOSCRIPT, and the call is sent
 * again as EVAL, which also loads it for the next calls. Keys get the
 * client's own ioredis keyPrefix when a provided client has one, as
 * defineCommand did.
 */
export function scriptRunner<T> (client: RedisClient, lua: string, numberOfKeys: number | undefined): RedkitScript<T> {
  const sha = createHash('sha1').update(lua).digest('hex')
  const keyPrefix = (client.options as { keyPrefix?: string }).keyPrefix
  const options = keyPrefix === undefined || keyPrefix === '' ? { replyEncoding: 'utf8' as const } : { replyEncoding: 'utf8' as const, keyPrefix }

  const argsOf = (head: string, keys: string[], args: Arg[]): Arg[] => {
    const out: Arg[] = [head, numberOfKeys ?? keys.length]
    for (let i = 0; i < keys.length; i++) out.push(keys[i]!)
    for (let i = 0; i < args.length; i++) out.push(args[i]!)
    return out
  }
  // The prefix is applied when a command is built, so the EVAL is built from the caller's keys, not the sent ones.
  const reload = (keys: string[], args: Arg[]) => async (err: Error): Promise<T> => {
    if (!err.message.includes('NOSCRIPT')) throw err
    return await (client.sendCommand(new Command('eval', argsOf(lua, keys, args), options)) as Promise<T>)
  }

  return (keys, args = []) => {
    const command = new Command('evalsha', argsOf(sha, keys, args), options)
    return (client.sendCommand(command) as Promise<T>).catch(reload(keys, args))
  }
}
