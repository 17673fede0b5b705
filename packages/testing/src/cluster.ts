import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, Redis, type ClusterOptions } from 'ioredis'
import { cliBin, waitFor } from './process.js'
import { quote, startRedis, type RedisServer } from './redis.js'
import { clusterAdmin, type ClusterAdmin } from './cluster-admin.js'

const run = promisify(execFile)

export interface StartClusterOptions {
  masters?: number
  replicasPerMaster?: number
  password?: string
}

export interface ClusterNode {
  host: string
  port: number
}

export interface RedisCluster extends ClusterAdmin {
  readonly servers: RedisServer[]
  readonly nodes: ClusterNode[]
  /** Comma-separated host:port list, the form REDIS_CLUSTER_NODES takes. */
  readonly nodeList: string
  readonly password?: string
  /** A cluster client for test assertions, closed on stop(). */
  client: (extra?: ClusterOptions) => Cluster
  stop: () => Promise<void>
}

async function clusterOk (server: RedisServer): Promise<boolean> {
  const client = new Redis(server.options({ lazyConnect: true, maxRetriesPerRequest: 0 }))
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.cluster('INFO') as string
    return info.includes('cluster_state:ok')
  } finally {
    client.disconnect()
  }
}

/** True for a master, or a replica whose link to its master is up. */
async function replicaSynced (server: RedisServer): Promise<boolean> {
  const client = new Redis(server.options({ lazyConnect: true, maxRetriesPerRequest: 0 }))
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.info('replication')
    return info.includes('role:master') || info.includes('master_link_status:up')
  } finally {
    client.disconnect()
  }
}

/**
 * Builds a local Redis Cluster with `redis-cli --cluster create`. With
 * replicasPerMaster, each master gets replicas, synced before it returns. The
 * result also moves slots and fails over (see ClusterAdmin).
 */
export async function startCluster (opts: StartClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3
  const replicas = opts.replicasPerMaster ?? 0
  const total = masters * (1 + replicas)
  const servers: RedisServer[] = []
  try {
    for (let i = 0; i < total; i++) {
      servers.push(await startRedis({
        label: 'cluster',
        local: true,
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        config: [
          'cluster-enabled yes',
          'cluster-config-file nodes.conf',
          'cluster-node-timeout 2000',
          ...(opts.password !== undefined ? [`masterauth ${quote(opts.password)}`] : [])
        ]
      }))
    }
    const args = ['--cluster', 'create', ...servers.map((s) => `${s.host}:${s.port}`),
      '--cluster-replicas', String(replicas), '--cluster-yes']
    const env = { ...process.env, ...(opts.password !== undefined ? { REDISCLI_AUTH: opts.password } : {}) }
    await run(cliBin(), args, { env, timeout: 30_000 })
    for (const server of servers) {
      await waitFor(async () => await clusterOk(server), 20_000, `cluster state ok on port ${server.port}`)
    }
    if (replicas > 0) {
      for (const server of servers) {
        await waitFor(async () => await replicaSynced(server), 20_000, `replica on port ${server.port} to sync`)
      }
    }
  } catch (err) {
    await Promise.all(servers.map(async (s) => await s.stop()))
    throw err
  }

  const nodes = servers.map((s) => ({ host: s.host, port: s.port }))
  const clients = new Set<Cluster>()
  return {
    ...clusterAdmin(servers, opts.password),
    servers,
    nodes,
    nodeList: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    client: (extra = {}) => {
      const client = new Cluster(nodes, {
        ...extra,
        redisOptions: {
          ...(opts.password !== undefined ? { password: opts.password } : {}),
          maxRetriesPerRequest: 1,
          ...extra.redisOptions
        }
      })
      client.on('error', () => {})
      clients.add(client)
      return client
    },
    stop: async () => {
      for (const client of clients) client.disconnect()
      clients.clear()
      await Promise.all(servers.map(async (s) => await s.stop()))
    }
  }
}
