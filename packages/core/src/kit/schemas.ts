import type { RedkitPanelValue } from '../describe.js'

/* JSON Schema and panel pieces the packages' descriptions share. */

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

/** JSON Schema properties: each named field of one JSON type. */
export function typedFields (fields: readonly string[], type: string | string[] = 'integer'): Record<string, { type: string | string[] }> {
  return Object.fromEntries(fields.map((field) => [field, { type }]))
}

/** An object of the named fields, all of one JSON type: a package's counters. */
export function fieldsSchema (fields: readonly string[], type = 'integer'): Record<string, unknown> {
  return { type: 'object', properties: typedFields(fields, type) }
}

/** Panel values or columns from [label, path, format?] rows. */
export function panelValues (...rows: Array<[label: string, path: string, format?: RedkitPanelValue['format']]>): RedkitPanelValue[] {
  return rows.map(([label, path, format]) => format === undefined ? { label, path } : { label, path, format })
}
