import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import type { CacheEngine } from './engine.js'
import { CacheInvalidOptionError } from './errors.js'
import { isNamespace, MAX_TAGS, MAX_TTL, type ResolvedOptions } from './options.js'

export interface RouteCacheOptions {
  /** Time to live in ms; defaults to the plugin's `ttl`. */
  ttl?: number
  /** Cache key of a request; defaults to its URL (path and query). */
  key?: (request: FastifyRequest) => string
  /** Tags of the stored response, for invalidation by mutation routes. */
  tags?: string[] | ((request: FastifyRequest) => string[])
  /** Request headers whose values select separate entries; also sent as Vary. */
  vary?: string[]
  /** Cache-Control sent with cacheable responses; defaults to `max-age=<ttl in s>`. false sends none. */
  cacheControl?: string | false
  /**
   * The response is the same whoever asks: requests carrying Authorization or
   * Cookie are cached too. Without it (or a `key`, or `vary` naming the
   * header), such requests bypass the cache.
   */
  shared?: boolean
  /** More response headers that are per client: never stored, never replayed. */
  omitHeaders?: string[]
}

export interface RouteInvalidateOptions {
  /** Tags to invalidate after a successful (status < 400) response. */
  tags: string[] | ((request: FastifyRequest) => string[])
  /** Namespaces to invalidate them in; defaults to the route namespace. */
  namespaces?: string[]
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Cache this GET route's responses. */
    cache?: RouteCacheOptions
    /** Invalidate cached responses by tag when this route succeeds. */
    cacheInvalidate?: RouteInvalidateOptions
  }
}

/** What a cached response keeps. */
interface StoredResponse {
  s: number
  h: Record<string, string | string[] | number>
  b: string
  e: 'utf8' | 'base64'
  t: string
}

// Hop-by-hop, per-response or per-client headers that must not be replayed.
const SKIPPED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'etag', 'x-cache',
  'set-cookie', 'retry-after'])
// Rate-limit headers (x-ratelimit-remaining, ratelimit-policy, …) belong to the caller who got them.
const PER_CLIENT = /^(x-)?ratelimit/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function headerList (value: unknown): boolean {
  return Array.isArray(value) && value.every((h) => typeof h === 'string' && HEADER_NAME.test(h))
}

function fail (route: string, message: string): never {
  throw new CacheInvalidOptionError(`route ${route}: ${message}`)
}

function checkTagsOption (route: string, name: string, tags: unknown, required: boolean): void {
  if (tags === undefined && !required) return
  if (typeof tags === 'function') return
  if (!Array.isArray(tags) || tags.length > MAX_TAGS || !tags.every((t) => typeof t === 'string' && t.length > 0)) {
    fail(route, `${name} must be an array of non-empty strings or a function of the request`)
  }
}

function checkRouteCache (route: string, cfg: RouteCacheOptions): void {
  if (typeof cfg !== 'object' || cfg === null) fail(route, 'config.cache must be an object')
  if (cfg.ttl !== undefined && (!Number.isInteger(cfg.ttl) || cfg.ttl < 1 || cfg.ttl > MAX_TTL)) {
    fail(route, `config.cache.ttl must be an integer number of ms from 1 to ${MAX_TTL}`)
  }
  if (cfg.key !== undefined && typeof cfg.key !== 'function') fail(route, 'config.cache.key must be a function (request) => string')
  checkTagsOption(route, 'config.cache.tags', cfg.tags, false)
  if (cfg.vary !== undefined && !headerList(cfg.vary)) fail(route, 'config.cache.vary must be an array of header names')
  if (cfg.omitHeaders !== undefined && !headerList(cfg.omitHeaders)) fail(route, 'config.cache.omitHeaders must be an array of header names')
  if (cfg.shared !== undefined && typeof cfg.shared !== 'boolean') fail(route, 'config.cache.shared must be true or false')
  if (cfg.cacheControl !== undefined && cfg.cacheControl !== false && typeof cfg.cacheControl !== 'string') {
    fail(route, 'config.cache.cacheControl must be a string or false')
  }
}

function checkRouteInvalidate (route: string, cfg: RouteInvalidateOptions): void {
  if (typeof cfg !== 'object' || cfg === null) fail(route, 'config.cacheInvalidate must be an object with tags')
  checkTagsOption(route, 'config.cacheInvalidate.tags', cfg.tags, true)
  if (cfg.namespaces !== undefined && (!Array.isArray(cfg.namespaces) || !cfg.namespaces.every(isNamespace))) {
    fail(route, 'config.cacheInvalidate.namespaces must be an array of namespace names')
  }
}

/** True when an If-None-Match header lists the ETag (weak comparison, as for GET). */
function matches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare)
}

function append<T> (existing: T | T[] | undefined, hook: T): T[] {
  if (existing === undefined) return [hook]
  return Array.isArray(existing) ? [...existing, hook] : [existing, hook]
}

/** The headers a stored response keeps (also applied on replay, to entries stored before a header was skipped). */
function replayable (headers: Record<string, unknown>, omit: Set<string>): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = {}
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (value === undefined || SKIPPED_HEADERS.has(lower) || PER_CLIENT.test(lower) || omit.has(lower)) continue
    out[name] = value as string | string[] | number
  }
  return out
}

/**
 * The request headers that make a response per client (RFC 9111 §3.5) and
 * that the route has not declared irrelevant: such requests bypass the cache.
 */
function privateHeaders (cfg: RouteCacheOptions, vary: string[]): string[] {
  if (cfg.shared === true || cfg.key !== undefined) return []
  return ['authorization', 'cookie'].filter((name) => !vary.includes(name))
}

function resolveTags (tags: RouteCacheOptions['tags'], request: FastifyRequest): string[] | undefined {
  return typeof tags === 'function' ? tags(request) : tags
}

interface Claimed {
  key: string
  /** The fill lock this request holds, or '' when it runs without it. */
  token: string
  tags: string[]
  /** Tag versions read before the handler ran; null when they could not be read (nothing is stored). */
  expected: number[] | null
}

interface RouteHooks {
  preHandler: preHandlerAsyncHookHandler
  onSend: onSendHookHandler
  /** Releases a claim that onSend never settled (the request was aborted or the reply hijacked). */
  onDone: (request: FastifyRequest) => Promise<void>
}

function cacheHooks (engine: CacheEngine, options: ResolvedOptions, cfg: RouteCacheOptions): RouteHooks {
  const keys = engine.keys(options.routeNamespace)
  const ttl = cfg.ttl ?? options.ttl
  const vary = (cfg.vary ?? []).map((h) => h.toLowerCase())
  const omit = new Set((cfg.omitHeaders ?? []).map((h) => h.toLowerCase()))
  const personal = privateHeaders(cfg, vary)
  const cacheControl = cfg.cacheControl ?? `max-age=${Math.floor(ttl / 1000)}`
  const pending = new WeakMap<FastifyRequest, Claimed>()
  const log = (request: FastifyRequest, err: unknown): void => {
    request.log.warn({ err: (err as Error).message, code: (err as { code?: string }).code }, 'redkit cache: response not cached')
  }

  const keyOf = (request: FastifyRequest): string => {
    let key = `GET:${cfg.key !== undefined ? cfg.key(request) : request.url}`
    for (const name of vary) {
      const value = request.headers[name]
      key += `\n${name}=${Array.isArray(value) ? value.join(',') : value ?? ''}`
    }
    return key
  }

  const serve = async (request: FastifyRequest, reply: FastifyReply, hit: StoredResponse): Promise<void> => {
    reply.headers(replayable(hit.h, omit))
    reply.header('etag', hit.t)
    reply.header('x-cache', 'HIT')
    if (matches(request.headers['if-none-match'], hit.t)) {
      await reply.code(304).send()
      return
    }
    await reply.code(hit.s).send(hit.e === 'base64' ? Buffer.from(hit.b, 'base64') : hit.b)
  }

  const preHandler: preHandlerAsyncHookHandler = async function (request, reply) {
    if (request.method !== 'GET') return
    if (vary.length > 0) reply.header('vary', vary.join(', '))
    if (personal.some((name) => request.headers[name] !== undefined)) {
      reply.header('x-cache', 'BYPASS')
      return
    }
    const key = keyOf(request)
    const hit = await engine.get(keys, key) as StoredResponse | undefined
    if (hit !== undefined) {
      await serve(request, reply, hit)
      return
    }
    // Concurrent misses of one key, here or on other instances, wait for the first to fill it.
    const claim = await engine.fills.turn(keys, key, false)
    if ('value' in claim) {
      await serve(request, reply, claim.value as StoredResponse)
      return
    }
    let tags: string[] = []
    let expected: number[] | null = null
    try {
      tags = resolveTags(cfg.tags, request) ?? []
      expected = await engine.snapshot(keys, tags.map((tag) => keys.tag(tag)))
    } catch (err) {
      log(request, err)
    }
    pending.set(request, { key, token: claim.token, tags, expected })
    reply.header('x-cache', 'MISS')
  }

  /** Stores a cacheable response under the claim; its ETag, or undefined when the response is not cacheable. */
  const store = async (request: FastifyRequest, reply: FastifyReply, payload: unknown, claimed: Claimed): Promise<string | undefined> => {
    if (reply.statusCode !== 200 || reply.hasHeader('set-cookie') || claimed.expected === null) return undefined
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined
    const control = reply.getHeader('cache-control')
    if (control !== undefined && /no-store|private/i.test(String(control))) return undefined
    const etag = `"${createHash('sha1').update(payload).digest('base64url')}"`
    reply.header('etag', etag)
    if (control === undefined && cacheControl !== false) reply.header('cache-control', cacheControl)
    const body = typeof payload === 'string'
      ? { b: payload, e: 'utf8' as const }
      : { b: payload.toString('base64'), e: 'base64' as const }
    await engine.set(keys, claimed.key, { s: 200, h: replayable(reply.getHeaders(), omit), ...body, t: etag } satisfies StoredResponse,
      { ttl, tags: claimed.tags }, claimed.token, claimed.expected)
    return etag
  }

  const onSend: onSendHookHandler = async function (request, reply, payload) {
    const claimed = pending.get(request)
    if (claimed === undefined) return payload
    pending.delete(request)
    let etag: string | undefined
    try {
      etag = await store(request, reply, payload, claimed)
    } catch (err) {
      log(request, err)
    }
    // Not stored: let the requests waiting for this one run their own handlers.
    if (etag === undefined) await engine.fills.unclaim(keys, claimed.key, claimed.token)
    else if (matches(request.headers['if-none-match'], etag)) {
      reply.code(304)
      return null
    }
    return payload
  }

  const onDone = async (request: FastifyRequest): Promise<void> => {
    const claimed = pending.get(request)
    if (claimed === undefined) return
    pending.delete(request)
    await engine.fills.unclaim(keys, claimed.key, claimed.token)
  }
  return { preHandler, onSend, onDone }
}

function invalidateHook (engine: CacheEngine, options: ResolvedOptions, cfg: RouteInvalidateOptions): onSendHookHandler {
  const namespaces = cfg.namespaces ?? [options.routeNamespace]
  return async function (request, reply, payload) {
    if (reply.statusCode >= 400) return payload
    try {
      const tags = resolveTags(cfg.tags, request) ?? []
      await Promise.all(namespaces.map(async (ns) => await engine.handle(ns).invalidate({ tags })))
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'redkit cache: invalidation after the route failed')
    }
    return payload
  }
}

/**
 * Adds caching hooks to routes declared with config.cache or
 * config.cacheInvalidate. Hits are served from the route's last preHandler,
 * so authentication and other earlier hooks still run for every request.
 */
export function installRouteCache (app: FastifyInstance, engine: CacheEngine, options: ResolvedOptions): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config as { cache?: RouteCacheOptions, cacheInvalidate?: RouteInvalidateOptions } | undefined
    const name = `${String(route.method)} ${route.url}`
    if (config?.cache !== undefined) {
      checkRouteCache(name, config.cache)
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      if (methods.includes('GET')) {
        const hooks = cacheHooks(engine, options, config.cache)
        route.preHandler = append(route.preHandler, hooks.preHandler)
        route.onSend = append(route.onSend, hooks.onSend)
        route.onResponse = append(route.onResponse, hooks.onDone)
        route.onRequestAbort = append(route.onRequestAbort, hooks.onDone)
      }
    }
    if (config?.cacheInvalidate !== undefined) {
      checkRouteInvalidate(name, config.cacheInvalidate)
      route.onSend = append(route.onSend, invalidateHook(engine, options, config.cacheInvalidate))
    }
  })
}
