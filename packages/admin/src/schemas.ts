import { INFO_SECTIONS } from './redis-info.js'
import { DEFAULT_PAGE_SIZE, DEFAULT_SLOWLOG_COUNT, MAX_PAGE_SIZE, MAX_SLOWLOG_COUNT } from './options.js'

/* JSON Schemas of every route, so validation, serialisation and @fastify/swagger share one description. */

const TAGS = ['redkit-admin']

export const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 500: errorSchema, 503: errorSchema }

const healthBody = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'down'] },
    mode: { type: 'string', enum: ['redis', 'memory'] },
    latencyMs: { type: 'number' },
    error: { type: 'string' }
  },
  required: ['status']
} as const

export const healthSchema = {
  tags: TAGS,
  summary: 'Liveness: the process answers HTTP',
  response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, uptimeSeconds: { type: 'number' } } } }
}

export const readySchema = {
  tags: TAGS,
  summary: 'Readiness: Redis answers a ping within the deadline (always ready in memory mode)',
  response: { 200: healthBody, 503: healthBody }
}

const packageFlags = {
  type: 'object',
  properties: {
    sessions: { type: 'boolean' },
    locks: { type: 'boolean' },
    pubsub: { type: 'boolean' },
    cache: { type: 'boolean' },
    rateLimit: { type: 'boolean' }
  }
} as const

export const overviewSchema = {
  tags: TAGS,
  summary: 'Backend, health, connection counters and registered packages',
  response: {
    200: {
      type: 'object',
      properties: {
        mode: { type: 'string' },
        cluster: { type: 'boolean' },
        prefix: { type: 'string' },
        instanceId: { type: 'string' },
        health: healthBody,
        stats: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
        packages: packageFlags
      }
    },
    ...errors
  }
}

const infoFields = { type: 'object', additionalProperties: { type: 'string' } } as const

export const infoSchema = {
  tags: TAGS,
  summary: `INFO of every node, sections ${INFO_SECTIONS.join(', ')} only, with credential-like fields removed`,
  response: {
    200: {
      type: 'object',
      properties: {
        nodes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              node: { type: 'string' },
              role: { type: 'string' },
              error: { type: 'string' },
              sections: {
                type: 'object',
                properties: Object.fromEntries(INFO_SECTIONS.map((s) => [s, infoFields])),
                additionalProperties: false
              }
            }
          }
        }
      }
    },
    ...errors
  }
}

export const slowlogSchema = {
  tags: TAGS,
  summary: 'Slow log of every master: command names and timings, never arguments',
  querystring: {
    type: 'object',
    properties: { count: { type: 'integer', minimum: 1, maximum: MAX_SLOWLOG_COUNT, default: DEFAULT_SLOWLOG_COUNT } },
    additionalProperties: false
  },
  response: {
    200: {
      type: 'object',
      properties: {
        nodes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              node: { type: 'string' },
              error: { type: 'string' },
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    timestamp: { type: 'integer' },
                    durationMicros: { type: 'integer' },
                    command: { type: 'string' },
                    argCount: { type: 'integer' },
                    client: { type: 'string' },
                    clientName: { type: 'string' }
                  }
                }
              }
            }
          }
        }
      }
    },
    ...errors
  }
}

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
  querystring: {
    type: 'object',
    properties: {
      // No maxLength here: @redkit/session refuses a cursor over its bound (512), answered as FST_REDKIT_ADMIN_INVALID_CURSOR.
      cursor: { type: 'string', minLength: 1, description: 'nextCursor of the previous page (under 1 KB)' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }
    },
    additionalProperties: false
  },
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

export const locksSchema = {
  tags: TAGS,
  summary: 'A page of held locks and semaphores, soonest-ending lease first, from the registry of held locks',
  querystring: {
    type: 'object',
    properties: {
      cursor: { type: 'string', minLength: 1, maxLength: 1024, description: 'nextCursor of the previous page' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }
    },
    additionalProperties: false
  },
  response: {
    200: {
      type: 'object',
      properties: {
        locks: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              kind: { type: 'string' },
              owner: { type: 'string' },
              token: { type: 'number' },
              ttl: { type: 'number' },
              holders: { type: 'array', items: { type: 'object', additionalProperties: true } }
            }
          }
        },
        nextCursor: { type: ['string', 'null'] }
      }
    },
    ...errors
  }
}

export const pubsubSchema = {
  tags: TAGS,
  summary: 'Channels, subscribers, gaps and counters of this instance',
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      properties: {
        mode: { type: 'string' },
        channels: { type: 'array', items: { type: 'object', properties: { channel: { type: 'string' }, subscribers: { type: 'integer' } } } },
        patterns: { type: 'array', items: { type: 'object', properties: { pattern: { type: 'string' }, subscribers: { type: 'integer' } } } },
        published: { type: 'integer' },
        received: { type: 'integer' },
        malformed: { type: 'integer' },
        gaps: { type: 'integer' },
        missed: { type: 'integer' },
        resubscribes: { type: 'integer' },
        sseClients: { type: 'integer' }
      }
    },
    ...errors
  }
}

const cacheCounters = {
  type: 'object',
  properties: {
    hits: { type: 'integer' },
    misses: { type: 'integer' },
    hitRate: { type: 'number' },
    loaderRuns: { type: 'integer' },
    staleServes: { type: 'integer' },
    errors: { type: 'integer' },
    l1Hits: { type: 'integer' },
    lockWaits: { type: 'integer' },
    lockTimeouts: { type: 'integer' }
  }
} as const

export const cacheStatsSchema = {
  tags: TAGS,
  summary: 'Cache counters, in total and per namespace',
  response: {
    200: { type: 'object', properties: { total: cacheCounters, namespaces: { type: 'object', additionalProperties: cacheCounters } } },
    ...errors
  }
}

export const cacheInvalidateSchema = {
  tags: TAGS,
  summary: 'Deletes every cache entry filed under the tag(s); repeat ?tag= for several',
  querystring: {
    type: 'object',
    properties: { tag: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, minItems: 1, maxItems: 100 } },
    required: ['tag'],
    additionalProperties: false
  },
  response: {
    200: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } }, removed: { type: 'integer' } } },
    ...errors
  }
}

const rateLimitParams = {
  type: 'object',
  properties: { key: { type: 'string', minLength: 1, maxLength: 1024 } },
  required: ['key']
} as const

export const rateLimitGetSchema = {
  tags: TAGS,
  summary: 'Current state of a rate-limit key under the default limit, without consuming',
  params: rateLimitParams,
  response: {
    200: {
      type: 'object',
      additionalProperties: true,
      properties: {
        key: { type: 'string' },
        allowed: { type: 'boolean' },
        remaining: { type: 'number' },
        limit: { type: 'number' },
        resetAt: { type: 'number' },
        retryAfter: { type: 'number' }
      }
    },
    ...errors
  }
}

export const rateLimitDeleteSchema = {
  tags: TAGS,
  summary: 'Forgets every counter of a rate-limit key',
  params: rateLimitParams,
  response: { 200: { type: 'object', properties: { key: { type: 'string' }, reset: { type: 'boolean' } } }, ...errors }
}

export const metricsSchema = {
  tags: TAGS,
  summary: 'Prometheus text exposition of redkit metrics',
  produces: ['text/plain'],
  response: { 200: { type: 'string' }, ...errors }
}

export const dashboardSchema = {
  tags: TAGS,
  summary: 'Dashboard page (static; it loads data with the Bearer token typed into its login form)',
  produces: ['text/html'],
  response: { 200: { type: 'string' } }
}
