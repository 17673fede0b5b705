import Fastify, { type FastifyInstance, type FastifyLoggerOptions } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import redkit, { type RedkitOptions } from '@redkit/core'
import session from '@redkit/session'
import locks from '@redkit/lock'
import pubsub from '@redkit/pubsub'
import rateLimit from '@redkit/rate-limit'
import cache from '@redkit/cache'
import admin from '@redkit/admin'
import type { DemoConfig } from './config.js'
import { createItemStore } from './items.js'
import { accountRoutes } from './routes/account.js'
import { apiRoutes } from './routes/api.js'
import { eventRoutes } from './routes/events.js'
import { homeRoutes } from './routes/home.js'
import { jobRoutes } from './routes/jobs.js'

export interface BuildOptions {
  /** Passed to @redkit/core, e.g. a url in tests; by default core reads REDIS_*. */
  redis?: RedkitOptions
  logger?: boolean | (FastifyLoggerOptions & { stream?: { write: (line: string) => void } })
}

/** The demo server: every redkit package, registered the way an app would. */
export async function buildApp (config: DemoConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel },
    // X-Forwarded-For is only believed from proxies named in TRUST_PROXY.
    trustProxy: config.trustProxy
  })

  await app.register(swagger, {
    openapi: {
      info: { title: 'redkit demo', version: '1.0.0', description: 'Every redkit package, on one server.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  await app.register(redkit, { fallback: config.production ? 'fail' : 'memory', ...opts.redis })
  await app.register(session, {
    secret: config.sessionSecret.split(','),
    cookie: { maxAge: 24 * 3600 * 1000, secure: config.cookieSecure },
    production: config.production
  })
  await app.register(locks)
  await app.register(pubsub)
  await app.register(rateLimit, { fastifyRateLimit: { global: false } })
  await app.register(cache)
  await app.register(admin, { token: config.adminToken, prefix: '/admin', healthPrefix: '' })

  // Responses sent while closing ask the client to drop the connection, so a
  // keep-alive socket from a request in flight cannot hold shutdown open.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  const items = await createItemStore(app)
  await app.register(accountRoutes)
  await app.register(jobRoutes)
  await app.register(eventRoutes)
  await app.register(apiRoutes, { items, itemsRateLimit: config.itemsRateLimit })
  await app.register(homeRoutes)

  if (config.cookieSecure && config.trustProxy === false) {
    // Browsers drop a Secure cookie sent over plain HTTP, so /login would answer 200 and nobody would stay logged in.
    app.log.warn('demo: COOKIE_SECURE is on but this server speaks plain HTTP and TRUST_PROXY is off, so browsers will not ' +
      'keep the session cookie. Serve it behind an HTTPS proxy and set TRUST_PROXY, or set COOKIE_SECURE=false for local HTTP')
  }

  app.log.info({ mode: app.redkit.mode }, app.redkit.mode === 'memory'
    ? 'demo: running in memory (single instance); set REDIS_URL to share state across instances'
    : 'demo: running on Redis')
  return app
}
