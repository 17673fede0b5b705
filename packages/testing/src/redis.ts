import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import {
  freePort, makeTempDir, PortInUseError, processState, removeDir, spawnRedis, stopChild, waitFor,
  type Spawned
} from './process.js'
import { makeTlsFiles, type TlsFiles } from './tls.js'

export interface AclUser {
  name: string
  password: string
  /** ACL rules; defaults to full access. */
  rules?: string
}

export interface StartRedisOptions {
  /** Sets `requirepass` for the default user. */
  password?: string
  /** Extra ACL users. */
  users?: AclUser[]
  /** Serve TLS only, with a throwaway CA. */
  tls?: boolean
  /** Keep data across restart() with an append-only file. */
  persistence?: boolean
  /** Extra config lines, e.g. ['cluster-enabled yes']. */
  config?: string[]
  /** Spawn a local server even when REDIS_URL is set. */
  local?: boolean
  /** Fixed port (used by restart and by cluster nodes). */
  port?: number
  label?: string
}

export interface RedisServer {
  readonly host: string
  readonly port: number
  /** redis:// or rediss:// URL, with credentials of the default user when a password is set. */
  readonly url: string
  readonly password?: string
  readonly tls?: TlsFiles
  readonly dir?: string
  /** True when REDIS_URL points the suite at a server it does not own. */
  readonly external: boolean
  pid: () => number | undefined
  /** ioredis options for connecting to this server. */
  options: (extra?: RedisOptions) => RedisOptions
  /** An admin client for test assertions, closed on stop(). */
  client: (extra?: RedisOptions) => Redis
  stop: () => Promise<void>
  kill: () => Promise<void>
  pause: () => Promise<void>
  resume: () => Promise<void>
  restart: () => Promise<void>
}

/** Quotes a value for redis.conf so spaces and quotes survive. */
export function quote (value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

function configLines (opts: StartRedisOptions, port: number, dir: string, tls?: TlsFiles): string[] {
  const lines = [
    'bind 127.0.0.1',
    `dir ${dir}`,
    'save ""',
    'logfile ""',
    'protected-mode no',
    `appendonly ${opts.persistence === true ? 'yes' : 'no'}`,
    'appendfsync always'
  ]
  if (tls !== undefined) {
    lines.push('port 0', `tls-port ${port}`, `tls-cert-file ${tls.certPath}`,
      `tls-key-file ${tls.keyPath}`, `tls-ca-cert-file ${tls.caPath}`, 'tls-auth-clients no')
  } else {
    lines.push(`port ${port}`)
  }
  if (opts.password !== undefined) lines.push(`requirepass ${quote(opts.password)}`)
  for (const user of opts.users ?? []) {
    lines.push(`user ${user.name} on ${quote(`>${user.password}`)} ${user.rules ?? '~* &* +@all'}`)
  }
  lines.push(...(opts.config ?? []))
  return lines
}

function externalServer (url: string): RedisServer {
  const parsed = new URL(url)
  const unsupported = async (): Promise<never> => {
    throw new Error('Fault injection needs a local server; this suite runs against REDIS_URL')
  }
  const clients: Redis[] = []
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    url,
    external: true,
    pid: () => undefined,
    options: (extra) => ({ ...extra }),
    client: (extra) => {
      const client = new Redis(url, { lazyConnect: false, ...extra })
      clients.push(client)
      return client
    },
    stop: async () => { await Promise.all(clients.map(async (c) => await c.quit().catch(() => c.disconnect()))) },
    kill: unsupported,
    pause: unsupported,
    resume: unsupported,
    restart: unsupported
  }
}

/**
 * Spawns redis-server on a free port in a temp dir. When REDIS_URL is set and
 * no server-side feature is asked for, it returns that external server instead.
 */
export async function startRedis (opts: StartRedisOptions = {}): Promise<RedisServer> {
  const wantsLocal = opts.local === true || opts.password !== undefined || opts.users !== undefined ||
    opts.tls === true || opts.persistence === true || opts.config !== undefined
  const externalUrl = process.env.REDIS_URL
  if (externalUrl !== undefined && externalUrl !== '' && !wantsLocal) return externalServer(externalUrl)

  const dir = makeTempDir(opts.label ?? 'redis')
  const tls = opts.tls === true ? makeTlsFiles(dir) : undefined
  let port = opts.port ?? await freePort()
  let proc: Spawned | undefined
  const conf = join(dir, 'redis.conf')

  const launch = async (): Promise<void> => {
    writeFileSync(conf, configLines(opts, port, dir, tls).join('\n') + '\n')
    proc = await spawnRedis([conf], /Ready to accept connections/)
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await launch()
      break
    } catch (err) {
      // Another process can grab the port between freePort() and bind.
      if (!(err instanceof PortInUseError) || opts.port !== undefined || attempt >= 5) throw err
      port = await freePort()
    }
  }

  const host = '127.0.0.1'
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : ''
  const url = `${tls !== undefined ? 'rediss' : 'redis'}://${auth}${host}:${port}`
  const clients = new Set<Redis>()
  const options = (extra: RedisOptions = {}): RedisOptions => ({
    host,
    port,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(tls !== undefined ? { tls: { ca: tls.ca, servername: 'localhost' } } : {}),
    ...extra
  })
  const current = (): Spawned => {
    if (proc === undefined) throw new Error('redis-server is not running')
    return proc
  }

  const server: RedisServer = {
    host,
    port,
    url,
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(tls !== undefined ? { tls } : {}),
    dir,
    external: false,
    pid: () => proc?.child.pid,
    options,
    client: (extra) => {
      const client = new Redis(options({ maxRetriesPerRequest: 1, ...extra }))
      client.on('error', () => {})
      clients.add(client)
      client.once('end', () => clients.delete(client))
      return client
    },
    stop: async () => {
      for (const client of clients) client.disconnect()
      clients.clear()
      if (proc !== undefined) await stopChild(proc, 'SIGKILL')
      removeDir(dir)
    },
    kill: async () => { await stopChild(current(), 'SIGKILL') },
    pause: async () => {
      const pid = current().child.pid
      if (pid === undefined) throw new Error('redis-server has no pid')
      process.kill(pid, 'SIGSTOP')
      await waitFor(() => processState(pid) === 'T', 2000, `redis-server ${pid} to stop`)
    },
    resume: async () => {
      const pid = current().child.pid
      if (pid === undefined) throw new Error('redis-server has no pid')
      process.kill(pid, 'SIGCONT')
      await waitFor(() => processState(pid) !== 'T', 2000, `redis-server ${pid} to continue`)
    },
    restart: async () => {
      if (proc !== undefined) await stopChild(proc, 'SIGKILL')
      // The port was just released; retry briefly in case TIME_WAIT or another process holds it.
      await waitFor(async () => {
        try {
          await launch()
          return true
        } catch (err) {
          if (err instanceof PortInUseError) return false
          throw err
        }
      }, 10_000, `redis-server to restart on port ${port}`)
    }
  }
  return server
}
