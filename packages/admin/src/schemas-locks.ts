import { TAGS, errors, pageQuery } from './schemas-common.js'

/* Schema of the held-locks route. */

export const locksSchema = {
  tags: TAGS,
  summary: 'A page of held locks and semaphores, soonest-ending lease first, from the registry of held locks',
  querystring: pageQuery({ maxLength: 1024, description: 'nextCursor of the previous page' }),
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
