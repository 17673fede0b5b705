import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './options.js'

/* Pieces the route schemas share: the swagger tag, the error responses and the paging query. */

export const TAGS = ['redkit-admin']

export const errorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' }
  }
} as const

export const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 500: errorSchema, 503: errorSchema }

/** The query of a paged route: the cursor of the previous page, as the route bounds it, and a page size. */
export function pageQuery (cursor: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      cursor: { type: 'string', minLength: 1, ...cursor },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }
    },
    additionalProperties: false
  }
}
