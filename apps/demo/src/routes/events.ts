import type { FastifyPluginAsync } from 'fastify'
import { ERROR, requireLogin } from '../login.js'

declare module '@redkit/pubsub' {
  interface PubsubChannels {
    notifications: { message: string, at: string }
  }
}

/** Server-Sent Events fed by @redkit/pubsub, so a notify on any instance reaches every browser. */
export const eventRoutes: FastifyPluginAsync = async (app) => {
  app.get('/events', {
    schema: { summary: 'Server-Sent Events stream of notifications', produces: ['text/event-stream'] }
  }, async (request, reply) => {
    await app.pubsub.sse(request, reply, 'notifications')
  })

  app.post<{ Body: { message: string } }>('/notify', {
    onRequest: requireLogin,
    schema: {
      summary: 'Publish a notification to every instance (needs a login)',
      body: { type: 'object', required: ['message'], properties: { message: { type: 'string', minLength: 1, maxLength: 1000 } } },
      response: { 200: { type: 'object', properties: { receivers: { type: 'integer' } } }, 401: ERROR }
    }
  }, async (request) => {
    const receivers = await app.pubsub.publish('notifications', { message: request.body.message, at: new Date().toISOString() })
    return { receivers }
  })
}
