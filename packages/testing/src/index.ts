export { startRedis, type RedisServer, type StartRedisOptions, type AclUser } from './redis.js'
export { startCluster, type RedisCluster, type StartClusterOptions, type ClusterNode } from './cluster.js'
export type { ClusterAdmin, ClusterNodeInfo } from './cluster-admin.js'
export { startSentinel, type SentinelGroup, type StartSentinelOptions } from './sentinel.js'
export { makeTlsFiles, type TlsFiles } from './tls.js'
export { freePort, waitFor, processState, serverBin } from './process.js'
export { keysWithoutTtl, countKeys, uniquePrefix } from './keys.js'
export {
  useTarget, type TargetKind, type TargetCore, type TestTarget, type MemoryTarget, type RedisTarget, type ClusterTarget,
  type TargetOptions
} from './target.js'
export { scriptDocProblems, type ScriptRow } from './lua-docs.js'

/** Collects log lines from a Fastify/pino logger for assertions. */
export function logCapture (): { stream: { write: (line: string) => void }, lines: string[], records: () => Array<Record<string, unknown>> } {
  const lines: string[] = []
  return {
    stream: { write: (line: string) => { lines.push(line) } },
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  }
}
