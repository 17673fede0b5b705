import type { RedkitDescription, RedkitRouteDescription, RedkitRouteErrors } from '@redkit/core'
import { fieldsSchema, pageQuerySchema, panelValues } from '@redkit/core/kit'
import type { FastifyBaseLogger } from 'fastify'
import type { SessionCounts } from './backend.js'
import { MAX_USER_ID } from './ids.js'
import type { SessionInfo } from './listing.js'
import type { SessionStore } from './store.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

export interface SessionStats extends SessionCounts {
  mode: 'redis' | 'memory'
}

const USER_ID = `user id: expected 1 to ${MAX_USER_ID} printable characters`

const sessionInfo = {
  type: 'object',
  properties: {
    sessionId: { type: 'string' },
    userId: { type: 'string' },
    created: { type: 'integer', description: 'ms since the epoch' },
    expires: { type: 'integer', description: 'ms since the epoch' },
    ip: { type: 'string' },
    userAgent: { type: 'string' }
  },
  required: ['sessionId', 'created', 'expires'],
  additionalProperties: false
}

const sessionIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' } },
  required: ['id']
}

const userIdParams = {
  type: 'object',
  properties: { userId: { type: 'string', minLength: 1, maxLength: MAX_USER_ID } },
  required: ['userId']
}

const statsSchema = {
  type: 'object',
  properties: {
    mode: { type: 'string' },
    sessions: { type: 'integer' },
    users: { type: 'integer', description: 'per-user session indexes' }
  }
}

/** Turns this package's input errors into the admin's, so its clients see one vocabulary. */
async function answer<T> (errors: RedkitRouteErrors, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    switch ((err as { code?: unknown } | null)?.code) {
      case 'FST_REDKIT_SESSION_INVALID_CURSOR': throw errors.invalidCursor()
      case 'FST_REDKIT_SESSION_INVALID_ID': throw errors.invalidId('session id: expected 8 to 128 of A-Z a-z 0-9 _ -')
      case 'FST_REDKIT_SESSION_INVALID_USER_ID': throw errors.invalidId(USER_ID)
      default: throw err
    }
  }
}

/** The handler of a /users/:userId route: the user id checked first, the store's input errors translated. */
function forUser (fn: (userId: string, log: FastifyBaseLogger) => Promise<unknown>): RedkitRouteDescription['handler'] {
  return async ({ params, log }, errors) => {
    const userId: string = params.userId
    // eslint-disable-next-line no-control-regex
    if (userId.length === 0 || userId.length > MAX_USER_ID || /[\u0000-\u001f\u007f]/.test(userId)) throw errors.invalidId(USER_ID)
    return await answer(errors, async () => await fn(userId, log))
  }
}

async function existing (store: SessionStore, id: string, errors: RedkitRouteErrors): Promise<SessionInfo> {
  const info = await answer(errors, async () => await store.meta(id))
  if (info === null) throw errors.notFound('session')
  return info
}

function sessionRoutes (store: SessionStore, stats: () => Promise<SessionStats>): RedkitRouteDescription[] {
  return [{
    method: 'GET',
    url: '/sessions/stats',
    summary: 'Session and user-index counts',
    schema: { response: statsSchema },
    handler: async () => await stats()
  }, {
    method: 'GET',
    url: '/sessions',
    summary: 'A page of sessions (ids and metadata only), in expiry order from the session registry',
    // No maxLength here: the store refuses a cursor over its bound (512), answered as an invalid cursor.
    schema: {
      querystring: pageQuerySchema({ description: 'nextCursor of the previous page (under 1 KB)' }),
      response: { type: 'object', properties: { sessions: { type: 'array', items: sessionInfo }, nextCursor: { type: ['string', 'null'] } } }
    },
    handler: async ({ query }, errors) => {
      const page = await answer(errors, async () => await store.list({ cursor: query.cursor, limit: query.limit }))
      return { sessions: page.sessions, nextCursor: page.cursor }
    }
  }, {
    method: 'POST',
    url: '/sessions/cleanup',
    summary: 'Drops user-index entries whose session is gone',
    schema: { response: fieldsSchema(['indexes', 'entries', 'removed']) },
    handler: async ({ log }) => {
      const { indexes, checked, removed } = await store.cleanup()
      const report = { indexes, entries: checked, removed }
      log.info(report, 'redkit session: index cleanup from the admin')
      return report
    }
  }, {
    method: 'GET',
    url: '/sessions/:id',
    summary: 'Metadata of one session',
    schema: { params: sessionIdParams, response: sessionInfo },
    handler: async ({ params }, errors) => await existing(store, params.id, errors)
  }, {
    method: 'DELETE',
    url: '/sessions/:id',
    summary: 'Revokes one session on every instance',
    schema: { params: sessionIdParams, response: { type: 'object', properties: { sessionId: { type: 'string' }, revoked: { type: 'boolean' } } } },
    handler: async ({ params, log }, errors) => {
      const id: string = params.id
      await existing(store, id, errors)
      await answer(errors, async () => { await store.revoke(id) })
      log.info({ sessionId: id.slice(0, 6) }, 'redkit session: revoked from the admin')
      return { sessionId: id, revoked: true }
    }
  }, ...userRoutes(store)]
}

function userRoutes (store: SessionStore): RedkitRouteDescription[] {
  return [{
    method: 'GET',
    url: '/users/:userId/sessions',
    summary: 'Live sessions of one user',
    schema: {
      params: userIdParams,
      response: { type: 'object', properties: { userId: { type: 'string' }, sessions: { type: 'array', items: sessionInfo } } }
    },
    handler: forUser(async (userId) => ({ userId, sessions: (await store.listByUser(userId)).map((s): SessionInfo => ({ ...s, userId })) }))
  }, {
    method: 'DELETE',
    url: '/users/:userId/sessions',
    summary: 'Revokes every session of one user',
    schema: { params: userIdParams, response: { type: 'object', properties: { userId: { type: 'string' }, revoked: { type: 'integer' } } } },
    handler: forUser(async (userId, log) => {
      const revoked = await store.revokeAll(userId)
      log.info({ revoked }, 'redkit session: sessions of a user revoked from the admin')
      return { userId, revoked }
    })
  }]
}

export function describeSessions (store: SessionStore, mode: 'redis' | 'memory'): RedkitDescription<SessionStats> {
  // Two counters kept by the store: O(1) on Redis whatever the number of sessions.
  const stats = async (): Promise<SessionStats> => ({ mode, ...await store.count() })
  return {
    name: 'session',
    package: '@redkit/session',
    stats,
    statsSchema,
    metrics: [
      { name: 'redkit_sessions', type: 'gauge', help: 'Live sessions', read: (s) => [[{}, s.sessions]] },
      { name: 'redkit_session_users', type: 'gauge', help: 'Users with a session index', read: (s) => [[{}, s.users]] }
    ],
    routes: sessionRoutes(store, stats),
    panel: {
      title: 'Sessions',
      values: panelValues(['Sessions', 'sessions'], ['Users indexed', 'users']),
      lists: [{
        url: '/sessions',
        path: 'sessions',
        cursor: 'nextCursor',
        query: { limit: '50' },
        key: 'sessionId',
        columns: panelValues(['Session', 'sessionId'], ['User', 'userId'], ['Created', 'created', 'time'], ['Expires', 'expires', 'time'],
          ['IP', 'ip'], ['User agent', 'userAgent', 'text']),
        filter: { label: 'Filter by user id', url: '/users/:userId/sessions' },
        rowActions: [{ label: 'Revoke', method: 'DELETE', url: '/sessions/:id' }],
        empty: 'No sessions.'
      }],
      actions: [{ label: 'Clean index', method: 'POST', url: '/sessions/cleanup', done: 'Cleanup: {removed} stale index entries removed of {entries}.' }]
    }
  }
}
