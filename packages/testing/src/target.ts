import type { Cluster, Redis } from 'ioredis'
import { startCluster, type ClusterNode, type RedisCluster, type StartClusterOptions } from './cluster.js'
import { startRedis, type RedisServer, type StartRedisOptions } from './redis.js'
import { keysWithoutTtl, uniquePrefix } from './keys.js'

/** Where a suite's apps keep their data. */
export type TargetKind = 'memory' | 'redis' | 'cluster'

/** The @redkit/core options that reach a target; `env: {}` keeps the machine's REDIS_* variables out. */
export type TargetCore = ({ mode: 'memory' } | { url: string } | { clusterNodes: ClusterNode[] }) & { env: Record<string, string> }

interface BaseTarget {
  /** Core options for an app on this target (add keyPrefix). */
  readonly core: TargetCore
  /** The demo's environment for this target: REDIS_URL or REDIS_CLUSTER_NODES (none in memory). */
  readonly env: Record<string, string>
  /** A key prefix no other test shares, remembered for keysWithoutTtl(). */
  prefix: (label?: string) => string
  /** The prefixes handed out so far. */
  readonly prefixes: readonly string[]
  /** Keys without a TTL under `prefix`, by default under every prefix handed out; none in memory. */
  keysWithoutTtl: (prefix?: string) => Promise<string[]>
}

export interface MemoryTarget extends BaseTarget {
  readonly kind: 'memory'
  readonly admin: undefined
}

export interface RedisTarget extends BaseTarget {
  readonly kind: 'redis'
  readonly server: RedisServer
  /** A client for checks from outside the apps, closed with the server. */
  readonly admin: Redis
}

export interface ClusterTarget extends BaseTarget {
  readonly kind: 'cluster'
  readonly cluster: RedisCluster
  /** A cluster client for checks from outside the apps, closed with the cluster. */
  readonly admin: Cluster
}

export type TestTarget = MemoryTarget | RedisTarget | ClusterTarget

export interface TargetOptions {
  redis?: StartRedisOptions
  /** Default: 3 masters without replicas. */
  cluster?: StartClusterOptions
}

interface Teardown { teardown: (fn: () => unknown) => void }

function prefixes (admin: Redis | Cluster | undefined): Pick<BaseTarget, 'prefix' | 'prefixes' | 'keysWithoutTtl'> {
  const given: string[] = []
  return {
    prefix: (label) => {
      const prefix = uniquePrefix(label)
      given.push(prefix)
      return prefix
    },
    prefixes: given,
    keysWithoutTtl: async (prefix) => admin === undefined
      ? []
      : (await Promise.all((prefix === undefined ? given : [prefix]).map(async (p) => await keysWithoutTtl(admin, p)))).flat()
  }
}

/**
 * Starts what a target needs (nothing, one redis-server, or a Cluster), stopped
 * at t's teardown, so that one suite runs the same on each:
 * `contract(t, await useTarget(t, 'cluster'))`.
 */
export async function useTarget (t: Teardown, kind: 'memory', opts?: TargetOptions): Promise<MemoryTarget>
export async function useTarget (t: Teardown, kind: 'redis', opts?: TargetOptions): Promise<RedisTarget>
export async function useTarget (t: Teardown, kind: 'cluster', opts?: TargetOptions): Promise<ClusterTarget>
export async function useTarget (t: Teardown, kind: TargetKind, opts?: TargetOptions): Promise<TestTarget>
export async function useTarget (t: Teardown, kind: TargetKind, opts: TargetOptions = {}): Promise<TestTarget> {
  if (kind === 'memory') {
    return { kind, core: { mode: 'memory', env: {} }, env: {}, admin: undefined, ...prefixes(undefined) }
  }
  if (kind === 'redis') {
    const server = await startRedis(opts.redis)
    t.teardown(server.stop)
    const admin = server.client()
    return { kind, server, admin, core: { url: server.url, env: {} }, env: { REDIS_URL: server.url }, ...prefixes(admin) }
  }
  const cluster = await startCluster({ masters: 3, ...opts.cluster })
  t.teardown(cluster.stop)
  const admin = cluster.client()
  return {
    kind,
    cluster,
    admin,
    core: { clusterNodes: cluster.nodes, env: {} },
    env: { REDIS_CLUSTER_NODES: cluster.nodeList },
    ...prefixes(admin)
  }
}
