import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { AdminUnauthorizedError } from './errors.js'
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
