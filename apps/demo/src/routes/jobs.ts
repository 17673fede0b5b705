import type { FastifyPluginAsync } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { ERROR, requireLogin } from '../login.js'

/** A job that must not run twice at once across instances: a route-level @redkit/lock. */
export const jobRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Params: { id: string }, Querystring: { ms?: number } }>('/jobs/:id/run', {
    // Before the route lock's preHandler: an anonymous request never takes the lock.
    onRequest: requireLogin,
    schema: {
      summary: 'Run a job exclusively (needs a login); 409 with Retry-After while another instance runs it',
      params: { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } } },
      querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: 10_000, default: 50 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            job: { type: 'string' },
            token: { type: 'number', description: 'Fencing token: pass it to what the job writes to' },
            instance: { type: 'string' },
            startedAt: { type: 'integer' },
            finishedAt: { type: 'integer' }
          }
        },
        401: ERROR
      }
    },
    config: { lock: { key: (request) => `job:${(request.params as { id: string }).id}`, ttl: 5_000, timeout: 0, statusCode: 409 } }
  }, async (request) => {
    const startedAt = Date.now()
    await sleep(request.query.ms ?? 50)
    return {
      job: request.params.id,
      token: request.lock?.token ?? 0,
      instance: app.redkit.instanceId,
      startedAt,
      finishedAt: Date.now()
    }
  })
}
