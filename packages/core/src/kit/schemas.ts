/* JSON Schema pieces the packages' described admin routes share. */

/** Page sizes of the admin listings: what a page holds unless asked, and the most it may hold. */
export const ADMIN_PAGE_SIZE = 100
export const ADMIN_MAX_PAGE_SIZE = 1000

/** The query of a paged route: the cursor of the previous page, as the route bounds it, and a page size. */
export function pageQuerySchema (cursor: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      cursor: { type: 'string', minLength: 1, ...cursor },
      limit: { type: 'integer', minimum: 1, maximum: ADMIN_MAX_PAGE_SIZE, default: ADMIN_PAGE_SIZE }
    },
    additionalProperties: false
  }
}

/** An object of the named fields, all of one JSON type: a package's counters. */
export function fieldsSchema (fields: readonly string[], type = 'integer'): Record<string, unknown> {
  return { type: 'object', properties: Object.fromEntries(fields.map((field) => [field, { type }])) }
}
