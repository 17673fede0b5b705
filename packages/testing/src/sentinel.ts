import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import {
  freePort, makeTempDir, removeDir, spawnRedis, stopChild, waitFor, type Spawned
} from './process.js'
import { startRedis, type RedisServer } from './redis.js'

export interface StartSentinelOptions {
  /** Master name the sentinels monitor. */
  name?: string
  replicas?: number
  sentinels?: number
  password?: string
  /** How long a master must be unreachable before it is considered down. */
  downAfterMs?: number
}

export interface SentinelGroup {
  readonly name: string
  readonly master: RedisServer
  readonly replicas: RedisServer[]
  readonly sentinels: Array<{ host: string, port: number }>
  /** Comma-separated host:port list, the form REDIS_SENTINELS takes. */
  readonly sentinelList: string
  readonly password?: string
  /** Asks the sentinels which node is the master now. */
  currentMaster: () => Promise<{ host: string, port: number }>
  stop: () => Promise<void>
}

async function sentinelCommand<T> (port: number, ...args: string[]): Promise<T> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.call('SENTINEL', ...args) as T
  } finally {
    client.disconnect()
  }
}

/** Starts a master, its replicas and a quorum of sentinels, all on free ports. */
export async function startSentinel (opts: StartSentinelOptions = {}): Promise<SentinelGroup> {
  const name = opts.name ?? 'redkit'
  const quorum = opts.sentinels ?? 3
  const auth = opts.password !== undefined ? { password: opts.password } : {}
  const authConfig = opts.password !== undefined ? [`masterauth ${opts.password}`] : []
  // Without the delay Redis 7 waits 5 s before a replica's first sync, and a
  // failover in that window would lose everything written so far.
  const master = await startRedis({ label: 'sentinel-master', local: true, ...auth, config: [...authConfig, 'repl-diskless-sync-delay 0'] })
  const replicas: RedisServer[] = []
  const sentinelProcs: Spawned[] = []
  const sentinels: Array<{ host: string, port: number }> = []
  const dir = makeTempDir('sentinels')
  const stop = async (): Promise<void> => {
    await Promise.all(sentinelProcs.map(async (p) => await stopChild(p, 'SIGKILL')))
    await Promise.all([master, ...replicas].map(async (s) => await s.stop()))
    removeDir(dir)
  }
  try {
    for (let i = 0; i < (opts.replicas ?? 1); i++) {
      replicas.push(await startRedis({
        label: 'sentinel-replica',
        local: true,
        ...auth,
        config: [...authConfig, `replicaof ${master.host} ${master.port}`]
      }))
    }
    for (const replica of replicas) {
      await waitFor(async () => {
        const info = await replica.client().info('replication')
        return info.includes('master_link_status:up')
      }, 20_000, `replica on ${replica.port} to finish its first sync`)
    }
    for (let i = 0; i < quorum; i++) {
      const port = await freePort()
      const conf = join(dir, `sentinel-${i}.conf`)
      writeFileSync(conf, [
        'bind 127.0.0.1',
        `port ${port}`,
        `dir ${dir}`,
        'logfile ""',
        'protected-mode no',
        `sentinel monitor ${name} ${master.host} ${master.port} ${Math.floor(quorum / 2) + 1}`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        ...(opts.password !== undefined ? [`sentinel auth-pass ${name} ${opts.password}`] : [])
      ].join('\n') + '\n')
      sentinelProcs.push(await spawnRedis([conf, '--sentinel'], /Sentinel ID is|monitor master/))
      sentinels.push({ host: '127.0.0.1', port })
    }
    for (const sentinel of sentinels) {
      await waitFor(async () => {
        const known = await sentinelCommand<unknown[]>(sentinel.port, 'REPLICAS', name)
        const others = await sentinelCommand<unknown[]>(sentinel.port, 'SENTINELS', name)
        return known.length >= replicas.length && others.length >= quorum - 1
      }, 20_000, `sentinel on ${sentinel.port} to discover the group`)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    name,
    master,
    replicas,
    sentinels,
    sentinelList: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    ...auth,
    currentMaster: async () => {
      const [host, port] = await sentinelCommand<[string, string]>(sentinels[0]!.port, 'GET-MASTER-ADDR-BY-NAME', name)
      return { host, port: Number(port) }
    },
    stop
  }
}
