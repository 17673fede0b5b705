import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ERROR, requireLogin } from '../login.js'

declare module 'fastify' {
  interface Session {
    userId?: string
    views?: number
    loginAt?: string
  }
}

const USERNAME = { type: 'string', pattern: '^[A-Za-z0-9_.@-]{1,64}$' } as const

/** Login, logout, "log out everywhere" and bridge-token hand-off: @redkit/session. */
export const accountRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { username: string } }>('/login', {
    schema: {
      summary: 'Log in (rate-limited per client and user, fail-closed)',
      body: { type: 'object', required: ['username'], properties: { username: USERNAME } },
      response: { 200: { type: 'object', properties: { userId: { type: 'string' }, sessionId: { type: 'string' } } } }
    },
    config: {
      rateLimit: {
        max: 5,
        timeWindow: 60_000,
        algorithm: 'token-bucket',
        onRedisError: 'closed',
        // After body parsing, so the key can hold the username.
        hook: 'preHandler',
        keyGenerator: (request: FastifyRequest) => `${app.limiter.clientKey(request)}|${(request.body as { username?: string })?.username ?? ''}`
      }
    }
  }, async (request) => {
    // A new id on login, so a session id fixed before login is worthless after it.
    await request.session.regenerate()
    request.session.userId = request.body.username
    request.session.loginAt = new Date().toISOString()
    return { userId: request.body.username, sessionId: request.session.sessionId }
  })

  app.post('/logout', { schema: { summary: 'Log out this session' } }, async (request, reply) => {
    await request.session.destroy()
    return await reply.code(204).send()
  })

  app.get('/me', {
    schema: {
      summary: 'The session: user, a view counter and its fields',
      response: {
        200: {
          type: 'object',
          properties: {
            userId: { type: ['string', 'null'] },
            views: { type: 'integer' },
            loginAt: { type: ['string', 'null'] },
            instance: { type: 'string' }
          }
        }
      }
    }
  }, async (request) => {
    request.session.views = (request.session.views ?? 0) + 1
    return {
      userId: request.session.userId ?? null,
      views: request.session.views,
      loginAt: request.session.loginAt ?? null,
      instance: app.redkit.instanceId
    }
  })

  app.post('/logout-everywhere', {
    onRequest: requireLogin,
    schema: {
      summary: 'Revoke every session of the user except this one',
      response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } } }, 401: ERROR }
    }
  }, async (request) => {
    const revoked = await app.sessions.revokeAll(request.session.userId!, { except: request.session.sessionId })
    return { revoked }
  })

  app.post('/bridge', {
    onRequest: requireLogin,
    schema: {
      summary: 'Issue a one-time token that carries the login to another device or service',
      response: { 200: { type: 'object', properties: { token: { type: 'string' }, expiresIn: { type: 'integer' } } }, 401: ERROR }
    }
  }, async (request) => {
    const token = await app.bridgeTokens.issue({ userId: request.session.userId!, issuedAt: Date.now() }, { ttl: 60 })
    return { token, expiresIn: 60 }
  })

  app.get<{ Params: { token: string } }>('/bridge/:token', {
    schema: {
      summary: 'Redeem a bridge token, once',
      params: { type: 'object', properties: { token: { type: 'string', maxLength: 128 } } },
      response: { 200: { type: 'object', properties: { userId: { type: 'string' }, issuedAt: { type: 'integer' } } }, 410: ERROR }
    }
  }, async (request, reply) => {
    const payload = await app.bridgeTokens.redeem<{ userId: string, issuedAt: number }>(request.params.token)
    if (payload === null) return await reply.code(410).send({ error: 'Gone', message: 'Token unknown, expired or already used' })
    return payload
  })
}
