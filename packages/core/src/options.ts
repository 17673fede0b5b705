import { readFileSync } from 'node:fs'
import type { Cluster, Redis } from 'ioredis'
import { RedkitInvalidOptionError } from './errors.js'

export const DEFAULT_CONNECT_TIMEOUT = 5000
export const DEFAULT_COMMAND_TIMEOUT = 1000
export const DEFAULT_MAX_RETRIES = 2
export const DEFAULT_KEY_PREFIX = 'redkit:'
export const DEFAULT_MAX_OFFLINE_QUEUE = 1000
export const DEFAULT_HEALTH_TIMEOUT = 1000
export const DEFAULT_RECONNECT_BASE = 50
export const DEFAULT_RECONNECT_CAP = 2000

export interface HostPort {
  host: string
  port: number
}

export interface RedkitTlsOptions {
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  caPath?: string
  certPath?: string
  keyPath?: string
  /** Verify the server certificate. Defaults to true. */
  rejectUnauthorized?: boolean
  servername?: string
}

export interface RedkitOptions {
  /** redis:// or rediss:// URL, with optional user:pass@ and /db. */
  url?: string
  host?: string
  port?: number
  username?: string
  password?: string
  db?: number
  /** Sentinel addresses, as objects or a "host:port,host:port" string. */
  sentinels?: HostPort[] | string
  sentinelName?: string
  sentinelPassword?: string
  /** Cluster startup nodes, as objects or a "host:port,host:port" string. */
  clusterNodes?: HostPort[] | string
  tls?: boolean | RedkitTlsOptions
  /** Bring your own ioredis client. */
  client?: Redis | Cluster
  /** Quit a client passed in `client` when the app closes. */
  closeClient?: boolean
  /** Startup deadline in ms, for connecting and the first ready check. */
  connectTimeout?: number
  /** Per-command deadline in ms; a command that has no reply by then fails. */
  commandTimeout?: number
  /** How often a command is retried across reconnects before it fails. */
  maxRetries?: number
  /** Most commands held while reconnecting; more fail at once. */
  maxOfflineQueue?: number
  /** Prefix for every key redkit writes. */
  keyPrefix?: string
  /** What to do when Redis is configured but unreachable at startup. */
  fallback?: 'memory' | 'fail'
  /** 'memory' forces the in-memory backend even when Redis is configured. */
  mode?: 'auto' | 'memory'
  /** Deadline of health() in ms. */
  healthTimeout?: number
  /**
   * After a command times out, fail further commands at once until Redis
   * answers a probe again, so a stalled Redis costs one deadline, not one per
   * command. Default true.
   */
  failFast?: boolean
  /** Environment to read REDIS_* from; defaults to process.env. */
  env?: Record<string, string | undefined>
}

export type Target =
  | { kind: 'memory', reason: 'unconfigured' | 'forced' }
  | { kind: 'client', client: Redis | Cluster, close: boolean, description: string }
  | { kind: 'standalone', host: string, port: number, description: string }
  | { kind: 'sentinel', sentinels: HostPort[], name: string, description: string }
  | { kind: 'cluster', nodes: HostPort[], description: string }

export interface ResolvedConfig {
  target: Target
  username?: string
  password?: string
  sentinelPassword?: string
  db: number
  tls?: ResolvedTls
  connectTimeout: number
  commandTimeout: number
  maxRetries: number
  maxOfflineQueue: number
  keyPrefix: string
  fallback: 'memory' | 'fail'
  healthTimeout: number
  failFast: boolean
}

export interface ResolvedTls {
  ca?: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  rejectUnauthorized: boolean
  servername?: string
}

type Env = Record<string, string | undefined>

function fail (message: string): never {
  throw new RedkitInvalidOptionError(message)
}

function present (value: string | undefined): value is string {
  return value !== undefined && value !== ''
}

function integer (value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    // Values are echoed, but never for fields that may hold secrets.
    fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

function boolean (value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(v)) return true
    if (['0', 'false', 'no', 'off'].includes(v)) return false
  }
  return fail(`${name} must be true or false, got ${JSON.stringify(value)}`)
}

function hostPortList (value: HostPort[] | string, name: string): HostPort[] {
  const items = typeof value === 'string'
    ? value.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
      const at = entry.lastIndexOf(':')
      if (at <= 0) fail(`${name} must be a list of host:port, got ${JSON.stringify(entry)}`)
      return { host: entry.slice(0, at).replace(/^\[|\]$/g, ''), port: entry.slice(at + 1) as unknown as number }
    })
    : value
  if (!Array.isArray(items) || items.length === 0) fail(`${name} must name at least one host:port`)
  return items.map((item, i) => {
    if (typeof item?.host !== 'string' || item.host === '') fail(`${name}[${i}].host must be a non-empty string`)
    return { host: item.host, port: integer(item.port, `${name}[${i}].port`, 1, 65535) }
  })
}

function readFile (path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    return fail(`${name} points to ${JSON.stringify(path)}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** Drops user info from a URL so it can be logged. */
export function redactUrl (url: URL): string {
  const user = url.username !== '' ? `${decodeURIComponent(url.username)}@` : ''
  const db = url.pathname.length > 1 ? url.pathname : ''
  return `${url.protocol}//${user}${url.host}${db}`
}

interface Connection {
  target: Target
  username?: string
  password?: string
  db?: number
  tls?: boolean
}

function parseUrl (raw: string, name: string): Connection {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // The raw value may hold a password, so it is not repeated.
    return fail(`${name} is not a valid URL; expected redis://[user:password@]host[:port][/db] or rediss://…`)
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    fail(`${name} must start with redis:// or rediss://, got ${url.protocol}//`)
  }
  if (url.hostname === '') fail(`${name} has no host`)
  const port = url.port === '' ? 6379 : integer(url.port, `${name} port`, 1, 65535)
  const dbPart = url.pathname.replace(/^\//, '')
  const db = dbPart === '' ? undefined : integer(dbPart, `${name} database (path)`, 0, 65535)
  const description = redactUrl(url)
  return {
    target: { kind: 'standalone', host: url.hostname.replace(/^\[|\]$/g, ''), port, description },
    ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
    ...(db !== undefined ? { db } : {}),
    tls: url.protocol === 'rediss:'
  }
}

function fromOptions (opts: RedkitOptions): Connection | undefined {
  if (opts.client !== undefined) {
    if (typeof opts.client?.sendCommand !== 'function') fail('client must be an ioredis Redis or Cluster instance')
    return { target: { kind: 'client', client: opts.client, close: opts.closeClient === true, description: 'provided client' } }
  }
  if (opts.url !== undefined) return parseUrl(opts.url, 'url')
  if (opts.host !== undefined || opts.port !== undefined) {
    const host = opts.host ?? '127.0.0.1'
    if (typeof host !== 'string' || host === '') fail('host must be a non-empty string')
    const port = integer(opts.port ?? 6379, 'port', 1, 65535)
    return { target: { kind: 'standalone', host, port, description: `redis://${host}:${port}` } }
  }
  if (opts.sentinels !== undefined) {
    const sentinels = hostPortList(opts.sentinels, 'sentinels')
    if (typeof opts.sentinelName !== 'string' || opts.sentinelName === '') fail('sentinelName is required with sentinels')
    return { target: sentinelTarget(sentinels, opts.sentinelName) }
  }
  if (opts.clusterNodes !== undefined) {
    return { target: clusterTarget(hostPortList(opts.clusterNodes, 'clusterNodes')) }
  }
  return undefined
}

function sentinelTarget (sentinels: HostPort[], name: string): Target {
  return { kind: 'sentinel', sentinels, name, description: `sentinel ${name}@${sentinels.map((s) => `${s.host}:${s.port}`).join(',')}` }
}

function clusterTarget (nodes: HostPort[]): Target {
  return { kind: 'cluster', nodes, description: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}` }
}

function fromEnv (env: Env): Connection | undefined {
  if (present(env.REDIS_URL)) return parseUrl(env.REDIS_URL, 'REDIS_URL')
  if (present(env.REDIS_HOST) || present(env.REDIS_PORT)) {
    const host = present(env.REDIS_HOST) ? env.REDIS_HOST : '127.0.0.1'
    const port = integer(env.REDIS_PORT ?? 6379, 'REDIS_PORT', 1, 65535)
    return { target: { kind: 'standalone', host, port, description: `redis://${host}:${port}` } }
  }
  if (present(env.REDIS_SENTINELS)) {
    if (!present(env.REDIS_SENTINEL_NAME)) fail('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS')
    return { target: sentinelTarget(hostPortList(env.REDIS_SENTINELS, 'REDIS_SENTINELS'), env.REDIS_SENTINEL_NAME) }
  }
  if (present(env.REDIS_CLUSTER_NODES)) {
    return { target: clusterTarget(hostPortList(env.REDIS_CLUSTER_NODES, 'REDIS_CLUSTER_NODES')) }
  }
  return undefined
}

function resolveTls (opts: RedkitOptions, env: Env, fromUrl: boolean | undefined): ResolvedTls | undefined {
  const envTls = present(env.REDIS_TLS) ? boolean(env.REDIS_TLS, 'REDIS_TLS') : undefined
  const optTls = opts.tls
  if (optTls !== undefined && typeof optTls !== 'boolean' && (typeof optTls !== 'object' || optTls === null)) {
    fail('tls must be a boolean or an object with ca, cert, key, caPath, certPath, keyPath, rejectUnauthorized')
  }
  const enabled = optTls !== undefined ? optTls !== false : (fromUrl === true || envTls === true)
  if (!enabled) return undefined
  const o: RedkitTlsOptions = typeof optTls === 'object' ? optTls : {}
  const file = (inline: string | Buffer | undefined, path: string | undefined, optName: string, envName: string): string | Buffer | undefined => {
    if (inline !== undefined) return inline
    if (path !== undefined) return readFile(path, `tls.${optName}`)
    const envPath = env[envName]
    return present(envPath) ? readFile(envPath, envName) : undefined
  }
  const ca = file(o.ca, o.caPath, 'caPath', 'REDIS_TLS_CA_PATH')
  const cert = file(o.cert, o.certPath, 'certPath', 'REDIS_TLS_CERT_PATH')
  const key = file(o.key, o.keyPath, 'keyPath', 'REDIS_TLS_KEY_PATH')
  if ((cert === undefined) !== (key === undefined)) fail('a TLS client certificate needs both a cert and a key (REDIS_TLS_CERT_PATH and REDIS_TLS_KEY_PATH)')
  const rejectUnauthorized = o.rejectUnauthorized !== undefined
    ? boolean(o.rejectUnauthorized, 'tls.rejectUnauthorized')
    : present(env.REDIS_TLS_REJECT_UNAUTHORIZED) ? boolean(env.REDIS_TLS_REJECT_UNAUTHORIZED, 'REDIS_TLS_REJECT_UNAUTHORIZED') : true
  return {
    rejectUnauthorized,
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(o.servername !== undefined ? { servername: o.servername } : {})
  }
}

function numberSetting (opt: number | undefined, optName: string, env: Env, envName: string, fallback: number, min: number, max: number): number {
  if (opt !== undefined) return integer(opt, optName, min, max)
  const raw = env[envName]
  return present(raw) ? integer(raw, envName, min, max) : fallback
}

function checkPrefix (prefix: unknown, name: string): string {
  if (typeof prefix !== 'string') return fail(`${name} must be a string`)
  // Braces would turn the prefix into a hash tag and break multi-key scripts on
  // Cluster; glob characters would make SCAN patterns match more than the app.
  if (/[{}*?[\]\\\s]/.test(prefix)) fail(`${name} must not contain braces, glob characters or spaces, got ${JSON.stringify(prefix)}`)
  return prefix
}

const KNOWN = new Set(['url', 'host', 'port', 'username', 'password', 'db', 'sentinels', 'sentinelName',
  'sentinelPassword', 'clusterNodes', 'tls', 'client', 'closeClient', 'connectTimeout', 'commandTimeout',
  'maxRetries', 'maxOfflineQueue', 'keyPrefix', 'fallback', 'mode', 'healthTimeout', 'failFast', 'env'])

/**
 * Resolves options and the environment into one connection config.
 * The first connection source found wins: options, REDIS_URL, REDIS_HOST/PORT,
 * REDIS_SENTINELS, REDIS_CLUSTER_NODES. Throws FST_REDKIT_INVALID_OPTION.
 */
export function resolveConfig (opts: RedkitOptions = {}): ResolvedConfig {
  if (typeof opts !== 'object' || opts === null) fail('options must be an object')
  for (const name of Object.keys(opts)) {
    if (!KNOWN.has(name)) fail(`unknown option "${name}"`)
  }
  const env: Env = opts.env ?? process.env
  if (opts.mode !== undefined && opts.mode !== 'auto' && opts.mode !== 'memory') fail(`mode must be 'auto' or 'memory', got ${JSON.stringify(opts.mode)}`)
  if (opts.fallback !== undefined && opts.fallback !== 'memory' && opts.fallback !== 'fail') {
    fail(`fallback must be 'memory' or 'fail', got ${JSON.stringify(opts.fallback)}`)
  }
  if (opts.closeClient !== undefined && typeof opts.closeClient !== 'boolean') fail('closeClient must be a boolean')
  if (opts.failFast !== undefined && typeof opts.failFast !== 'boolean') fail('failFast must be a boolean')

  const fromOpts = opts.mode === 'memory' ? undefined : fromOptions(opts)
  const conn: Connection = opts.mode === 'memory'
    ? { target: { kind: 'memory', reason: 'forced' } }
    : fromOpts ?? fromEnv(env) ?? { target: { kind: 'memory', reason: 'unconfigured' } }
  const useEnvAuth = fromOpts === undefined

  const username = opts.username ?? conn.username ?? (useEnvAuth && present(env.REDIS_USERNAME) ? env.REDIS_USERNAME : undefined)
  const password = opts.password ?? conn.password ?? (useEnvAuth && present(env.REDIS_PASSWORD) ? env.REDIS_PASSWORD : undefined)
  if (username !== undefined && typeof username !== 'string') fail('username must be a string')
  if (password !== undefined && typeof password !== 'string') fail('password must be a string')
  const sentinelPassword = opts.sentinelPassword ?? (present(env.REDIS_SENTINEL_PASSWORD) ? env.REDIS_SENTINEL_PASSWORD : undefined)
  const db = opts.db !== undefined
    ? integer(opts.db, 'db', 0, 65535)
    : conn.db ?? (useEnvAuth && present(env.REDIS_DB) ? integer(env.REDIS_DB, 'REDIS_DB', 0, 65535) : 0)
  if (conn.target.kind === 'cluster' && db !== 0) fail('Redis Cluster only has database 0; remove db / REDIS_DB')

  const tls = conn.target.kind === 'memory' || conn.target.kind === 'client' ? undefined : resolveTls(opts, env, conn.tls)
  const production = env.NODE_ENV === 'production'
  return {
    target: conn.target,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
    db,
    ...(tls !== undefined ? { tls } : {}),
    connectTimeout: numberSetting(opts.connectTimeout, 'connectTimeout', env, 'REDIS_CONNECT_TIMEOUT', DEFAULT_CONNECT_TIMEOUT, 1, 600_000),
    commandTimeout: numberSetting(opts.commandTimeout, 'commandTimeout', env, 'REDIS_COMMAND_TIMEOUT', DEFAULT_COMMAND_TIMEOUT, 1, 600_000),
    maxRetries: numberSetting(opts.maxRetries, 'maxRetries', env, 'REDIS_MAX_RETRIES', DEFAULT_MAX_RETRIES, 0, 100),
    maxOfflineQueue: numberSetting(opts.maxOfflineQueue, 'maxOfflineQueue', {}, '', DEFAULT_MAX_OFFLINE_QUEUE, 0, 1_000_000),
    healthTimeout: numberSetting(opts.healthTimeout, 'healthTimeout', {}, '', DEFAULT_HEALTH_TIMEOUT, 1, 600_000),
    keyPrefix: opts.keyPrefix !== undefined
      ? checkPrefix(opts.keyPrefix, 'keyPrefix')
      : present(env.REDIS_KEY_PREFIX) ? checkPrefix(env.REDIS_KEY_PREFIX, 'REDIS_KEY_PREFIX') : DEFAULT_KEY_PREFIX,
    fallback: opts.fallback ?? (production ? 'fail' : 'memory'),
    failFast: opts.failFast ?? true
  }
}
