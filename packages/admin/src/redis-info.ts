import { Cluster, type Redis } from 'ioredis'
import type { RedisClient } from '@redkit/core'

/** Sections of INFO the admin routes show; everything else is dropped. */
export const INFO_SECTIONS = ['server', 'clients', 'memory', 'stats', 'keyspace', 'replication'] as const
export type InfoSection = typeof INFO_SECTIONS[number]

/**
 * Fields dropped even inside allowed sections: anything that names a
 * credential, and file-system paths of the server's configuration.
 */
const SECRET_FIELD = /pass|auth|secret|token|credential|acl|cert|key_file|config_file|executable/i

export type InfoFields = Record<string, string>

export interface NodeInfo {
  node: string
  role?: string
  sections?: Partial<Record<InfoSection, InfoFields>>
  error?: string
}

export interface SlowlogEntry {
  id: number
  /** Seconds since the epoch. */
  timestamp: number
  durationMicros: number
  command: string
  argCount: number
  client?: string
  clientName?: string
}

export interface NodeSlowlog {
  node: string
  entries?: SlowlogEntry[]
  error?: string
}

function nodeName (node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`
}

/** Every node for INFO (replicas too), masters only where data lives. */
function nodesOf (client: RedisClient, role: 'all' | 'master'): Redis[] {
  const nodes = client instanceof Cluster ? client.nodes(role) : [client]
  // A stable order, so tables do not shuffle between requests.
  return [...nodes].sort((a, b) => nodeName(a).localeCompare(nodeName(b)))
}

/** Passwords the client knows, so a value that happens to hold one is dropped too. */
export function knownSecrets (client: RedisClient): string[] {
  const options = client instanceof Cluster ? client.options.redisOptions : client.options
  return [options?.password, (options as { sentinelPassword?: string } | undefined)?.sentinelPassword]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
}

export function redact (text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text)
}

/** Parses INFO text, keeping allowlisted sections and safe fields only. */
export function parseInfo (text: string, secrets: string[] = []): Partial<Record<InfoSection, InfoFields>> {
  const out: Partial<Record<InfoSection, InfoFields>> = {}
  let current: InfoFields | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      const name = line.slice(1).trim().toLowerCase()
      current = (INFO_SECTIONS as readonly string[]).includes(name) ? (out[name as InfoSection] = {}) : undefined
      continue
    }
    if (current === undefined) continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const field = line.slice(0, colon)
    const value = line.slice(colon + 1)
    if (SECRET_FIELD.test(field)) continue
    if (secrets.some((secret) => value.includes(secret))) continue
    current[field] = value
  }
  return out
}

function message (err: unknown, secrets: string[]): string {
  return redact((err as Error | null)?.message ?? String(err), secrets)
}

export async function redisInfo (client: RedisClient): Promise<NodeInfo[]> {
  const secrets = knownSecrets(client)
  return await Promise.all(nodesOf(client, 'all').map(async (node): Promise<NodeInfo> => {
    try {
      const sections = parseInfo(await node.info(), secrets)
      const role = sections.replication?.role
      return { node: nodeName(node), ...(role !== undefined ? { role } : {}), sections }
    } catch (err) {
      return { node: nodeName(node), error: message(err, secrets) }
    }
  }))
}

type RawSlowlog = Array<[number, number, number, Array<string | Buffer>, string?, string?]>

/**
 * Only the command name and argument count are shown: arguments carry
 * keys and values, e.g. session fields written by a script.
 */
function toEntry ([id, timestamp, duration, args, client, clientName]: RawSlowlog[number]): SlowlogEntry {
  const first = args[0]
  return {
    id: Number(id),
    timestamp: Number(timestamp),
    durationMicros: Number(duration),
    command: first === undefined ? '' : String(first).toUpperCase(),
    argCount: args.length,
    ...(typeof client === 'string' && client !== '' ? { client } : {}),
    ...(typeof clientName === 'string' && clientName !== '' ? { clientName } : {})
  }
}

export async function slowlog (client: RedisClient, count: number): Promise<NodeSlowlog[]> {
  const secrets = knownSecrets(client)
  return await Promise.all(nodesOf(client, 'master').map(async (node): Promise<NodeSlowlog> => {
    try {
      const raw = await node.call('SLOWLOG', 'GET', count) as RawSlowlog
      return { node: nodeName(node), entries: raw.map(toEntry) }
    } catch (err) {
      return { node: nodeName(node), error: message(err, secrets) }
    }
  }))
}
