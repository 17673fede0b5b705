import { TAGS, errors, pageQuery } from './schemas-common.js'

/* Schemas of the session routes (list, get, revoke, per-user, index cleanup). */

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
} as const

const sessionIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{8,128}$' } },
  required: ['id']
} as const

const userIdParams = {
  type: 'object',
  properties: { userId: { type: 'string', minLength: 1, maxLength: 512 } },
  required: ['userId']
} as const

export const sessionStatsSchema = {
  tags: TAGS,
  summary: 'Session and user-index counts',
  response: {
    200: {
      type: 'object',
      properties: {
        mode: { type: 'string' },
        sessions: { type: 'integer' },
        users: { type: 'integer', description: 'per-user session indexes' }
      }
    },
    ...errors
  }
}

export const sessionListSchema = {
  tags: TAGS,
  summary: 'A page of sessions (ids and metadata only), in expiry order from the session registry',
  // No maxLength here: @redkit/session refuses a cursor over its bound (512), answered as FST_REDKIT_ADMIN_INVALID_CURSOR.
  querystring: pageQuery({ description: 'nextCursor of the previous page (under 1 KB)' }),
  response: {
    200: {
      type: 'object',
      properties: {
        sessions: { type: 'array', items: sessionInfo },
        nextCursor: { type: ['string', 'null'] }
      }
    },
    ...errors
  }
}

export const sessionGetSchema = {
  tags: TAGS,
  summary: 'Metadata of one session',
  params: sessionIdParams,
  response: { 200: sessionInfo, ...errors }
}

export const sessionDeleteSchema = {
  tags: TAGS,
  summary: 'Revokes one session on every instance',
  params: sessionIdParams,
  response: {
    200: { type: 'object', properties: { sessionId: { type: 'string' }, revoked: { type: 'boolean' } } },
    ...errors
  }
}

export const userSessionsSchema = {
  tags: TAGS,
  summary: 'Live sessions of one user',
  params: userIdParams,
  response: {
    200: { type: 'object', properties: { userId: { type: 'string' }, sessions: { type: 'array', items: sessionInfo } } },
    ...errors
  }
}

export const userSessionsDeleteSchema = {
  tags: TAGS,
  summary: 'Revokes every session of one user',
  params: userIdParams,
  response: {
    200: { type: 'object', properties: { userId: { type: 'string' }, revoked: { type: 'integer' } } },
    ...errors
  }
}

export const cleanupSchema = {
  tags: TAGS,
  summary: 'Drops user-index entries whose session is gone',
  response: {
    200: {
      type: 'object',
      properties: {
        indexes: { type: 'integer' },
        entries: { type: 'integer' },
        removed: { type: 'integer' }
      }
    },
    ...errors
  }
}
