import { randomBytes } from 'node:crypto'

export { startRedis, type RedisServer, type StartRedisOptions, type AclUser } from './redis.js'
export { startCluster, type RedisCluster, type StartClusterOptions, type ClusterNode } from './cluster.js'
export type { ClusterAdmin, ClusterNodeInfo } from './cluster-admin.js'
export { startSentinel, type SentinelGroup, type StartSentinelOptions } from './sentinel.js'
export { makeTlsFiles, type TlsFiles } from './tls.js'
export { freePort, waitFor, processState, serverBin } from './process.js'
export { keysWithoutTtl, countKeys } from './keys.js'
export { scriptDocProblems, type ScriptRow } from './lua-docs.js'

/** A key prefix no other test shares, so suites can run against one server. */
export function uniquePrefix (label = 't'): string {
  return `redkit-test:${label}:${randomBytes(4).toString('hex')}:`
}

/** Collects log lines from a Fastify/pino logger for assertions. */
export function logCapture (): { stream: { write: (line: string) => void }, lines: string[], records: () => Array<Record<string, unknown>> } {
  const lines: string[] = []
  return {
    stream: { write: (line: string) => { lines.push(line) } },
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
