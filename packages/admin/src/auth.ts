import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AdminCrossSiteError, AdminUnauthorizedError } from './errors.js'
import type { ResolvedAdminOptions } from './options.js'

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/**
 * Compares a presented token with the configured one in constant time.
 * Hashing first gives both sides the same length, so neither the content
 * nor the length of the secret leaks through timing.
 */
export function tokenMatches (expected: Buffer, presented: string): boolean {
  return timingSafeEqual(expected, digest(presented))
}

export function bearerToken (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header !== 'string') return undefined
  return BEARER.exec(header)?.[1]
}

/** onRequest hook: a valid Bearer token or a passing auth() lets the request through. */
export function authHook (options: ResolvedAdminOptions): onRequestAsyncHookHandler {
  const expected = options.token === undefined ? undefined : digest(options.token)
  const { auth } = options
  return async function adminAuth (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (options.authDisabled) return
    if (expected !== undefined) {
      const presented = bearerToken(request)
      if (presented !== undefined && tokenMatches(expected, presented)) return
    }
    if (auth !== undefined) {
      let allowed = false
      try {
        allowed = await auth(request) === true
      } catch (err) {
        request.log.warn({ err: (err as Error).message }, 'redkit admin: auth hook threw; request refused')
      }
      if (allowed) return
    }
    reply.header('www-authenticate', 'Bearer realm="redkit-admin"')
    throw new AdminUnauthorizedError()
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** What the route says of itself (described routes carry it in their config), else what its method implies. */
function changesState (request: FastifyRequest): boolean {
  const declared = (request.routeOptions.config as { changesState?: unknown } | undefined)?.changesState
  return typeof declared === 'boolean' ? declared : UNSAFE_METHODS.has(request.method)
}
/** Bodies a cross-site <form> can send without a CORS preflight; the admin API takes JSON or nothing. */
const FORM_TYPES = /^\s*(text\/plain|application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i

function sameHost (origin: string, host: string): boolean {
  try {
    const from = new URL(origin)
    // Through URL on both sides, so a default port written out (':80') compares equal to none.
    return from.host === new URL(`${from.protocol}//${host}`).host
  } catch {
    // 'null' (sandboxed frames, file: pages, some redirects) and garbage.
    return false
  }
}

/**
 * onRequest hook against cross-site request forgery. A cookie-based `auth`
 * would otherwise let any page the admin visits submit a form to a
 * state-changing route with the admin's cookies. Browsers mark where a
 * request comes from (Sec-Fetch-Site, else Origin); clients that are not
 * browsers send neither and are judged by their credentials alone.
 */
export function sameOriginHook (options: ResolvedAdminOptions): onRequestAsyncHookHandler {
  return async function adminSameOrigin (request: FastifyRequest): Promise<void> {
    if (!changesState(request)) return
    const type = request.headers['content-type']
    if (typeof type === 'string' && FORM_TYPES.test(type)) {
      throw new AdminCrossSiteError(`content type ${type.split(';')[0]!.trim()} is not accepted; send JSON or no body`)
    }
    const site = request.headers['sec-fetch-site']
    if (typeof site === 'string') {
      if (site === 'same-origin' || site === 'none' || (site === 'same-site' && options.allowSameSite)) return
      throw new AdminCrossSiteError(`Sec-Fetch-Site is ${site}`)
    }
    const origin = request.headers.origin
    if (origin !== undefined && !sameHost(origin, request.host)) throw new AdminCrossSiteError('Origin differs from Host')
  }
}
