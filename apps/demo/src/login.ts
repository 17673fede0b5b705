import type { FastifyReply, FastifyRequest } from 'fastify'

export const ERROR = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } } as const

/**
 * onRequest hook of the routes that change something: they need a logged-in
 * session. It runs before body parsing and before route locks, so an anonymous
 * request costs one session read and holds nothing.
 */
export async function requireLogin (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.session.userId === undefined) await reply.code(401).send({ error: 'Unauthorized', message: 'Log in first' })
}
