import { INFO_SECTIONS } from './redis-info.js'
import { DEFAULT_SLOWLOG_COUNT, MAX_SLOWLOG_COUNT } from './options.js'
import { TAGS, errors } from './schemas-common.js'

/* JSON Schemas of every route, so validation, serialisation and @fastify/swagger share one description. */

export { errorSchema } from './schemas-common.js'

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

/** The packages that described themselves to redkit, by name. */
const packageFlags = { type: 'object', additionalProperties: { type: 'boolean' } } as const

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
