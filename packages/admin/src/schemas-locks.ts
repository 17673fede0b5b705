import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './options.js'
import { TAGS, errors } from './schemas-common.js'

/* Schema of the held-locks route. */

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
