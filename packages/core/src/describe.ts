import type { FastifyBaseLogger } from 'fastify'
import { checkDescription, routeKey } from './describe-check.js'
import { RedkitDuplicateDescriptionError } from './errors.js'

/*
 * How a package shows itself to an admin surface (e.g. @redkit/admin) without
 * the admin knowing it: its stats and their JSON Schema, the Prometheus
 * series read from them, a dashboard panel and the routes the admin serves
 * for it. Packages hand one to `app.redkit.describe()` when they register;
 * admins read them back with `app.redkit.descriptions()`, or follow them as
 * they come with `app.redkit.onDescribe()`.
 */

/** One Prometheus sample: its labels and value. */
export type RedkitSample = [labels: Record<string, string>, value: number]

export interface RedkitMetricDescription<S = unknown> {
  /** Full metric name, e.g. 'redkit_widgets_spins_total' (counters end in _total). */
  name: string
  type: 'counter' | 'gauge'
  help: string
  labelNames?: string[]
  /** Reads the samples from one stats snapshot, taken at scrape time. */
  read: (stats: S) => RedkitSample[]
}

/** A value of the panel, read from the stats (or a row) by a dotted path ('total.hits'). */
export interface RedkitPanelValue {
  label: string
  path: string
  /** How to show it; 'number' by default. 'time' is ms since the epoch, 'ms' a duration in ms. */
  format?: 'number' | 'percent' | 'bytes' | 'text' | 'time' | 'ms'
}

/** A table of the panel: one row per entry of the object or array at `path` of the stats. */
export interface RedkitPanelTable {
  title?: string
  path: string
  /** Header of the key column when `path` leads to an object (its keys become the first column). */
  keyLabel?: string
  columns: RedkitPanelValue[]
  empty?: string
}

/** A button on each row of a list, calling one of the package's routes with a parameter taken from the row. */
export interface RedkitPanelRowAction {
  label: string
  method: RedkitRouteMethod
  /** A described route with one parameter, filled from the row's `key` field: '/sessions/:id'. */
  url: string
}

/** A table read from one of the package's GET routes rather than from its stats. */
export interface RedkitPanelList {
  title?: string
  /** A described GET route without parameters: '/sessions'. */
  url: string
  /** Where the rows are in its reply. */
  path: string
  /** Field of the reply holding the next page's cursor, sent back as ?cursor= to load more. */
  cursor?: string
  /** Query sent with the first page, e.g. { limit: '50' }. */
  query?: Record<string, string>
  /** Field identifying a row, used by the row actions. */
  key?: string
  columns: RedkitPanelValue[]
  /** A text field that lists from another GET route, its one parameter filled with the text: '/users/:userId/sessions'. */
  filter?: { label: string, url: string }
  /** Buttons on each row; they ask for a second click before calling the route. */
  rowActions?: RedkitPanelRowAction[]
  empty?: string
}

/** A button (with an optional text field) calling one of the package's routes. */
export interface RedkitPanelAction {
  label: string
  method: RedkitRouteMethod
  /** A described route; its one parameter, if any, is filled with the text field. */
  url: string
  /** A text field; with `query`, its text is sent as that query parameter instead of the url's parameter. */
  input?: { label: string, query?: string }
  /** Shown when the call succeeds; {field} is replaced by that field of the reply. */
  done: string
  /** Drawn as a destructive action. */
  danger?: boolean
}

export interface RedkitPanelDescription {
  title: string
  values?: RedkitPanelValue[]
  tables?: RedkitPanelTable[]
  lists?: RedkitPanelList[]
  actions?: RedkitPanelAction[]
}

export type RedkitRouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** What a described route's handler gets of the request, validated against the route's schemas. */
export interface RedkitRouteRequest<P = any, Q = any, B = any> {
  params: P
  query: Q
  body: B
  log: FastifyBaseLogger
}

/**
 * Errors of the admin serving the route, so that its answers share one
 * vocabulary of codes whichever package they come from.
 */
export interface RedkitRouteErrors {
  /** 404: the thing named does not exist. */
  notFound: (what: string) => Error
  /** 400: an id or key in the request is malformed; `what` says which and what is expected. */
  invalidId: (what: string) => Error
  /** 400: a paging cursor was not one the route handed out. */
  invalidCursor: () => Error
}

export interface RedkitRouteSchema {
  querystring?: Record<string, unknown>
  params?: Record<string, unknown>
  body?: Record<string, unknown>
  /** JSON Schema of the 200 reply: the admin serializes with it, so fields it omits are not sent. */
  response: Record<string, unknown>
}

export interface RedkitRouteDescription {
  method: RedkitRouteMethod
  /** Path under the admin's prefix, with :params: '/sessions/:id'. */
  url: string
  /** One line for the API documentation. */
  summary: string
  /**
   * Whether the route changes state; the admin refuses such requests from
   * other sites. Every method but GET changes state (and cannot say otherwise);
   * a GET may say it does.
   */
  changesState?: boolean
  schema: RedkitRouteSchema
  handler: (request: RedkitRouteRequest, errors: RedkitRouteErrors) => unknown
}

export interface RedkitDescription<S = unknown> {
  /** Short name, used in URLs (/packages/<name>/stats): lowercase letters, digits and dashes. */
  name: string
  /** The npm package, e.g. '@redkit/cache'. */
  package: string
  /** This instance's stats, read on demand; a Promise when they come from Redis (keep that O(1)). */
  stats: () => S | Promise<S>
  /** JSON Schema of what `stats()` returns: admin serializes with it, so fields it omits are not sent. */
  statsSchema: Record<string, unknown>
  metrics?: Array<RedkitMetricDescription<S>>
  panel?: RedkitPanelDescription
  /** Routes an admin serves for the package, behind its credentials. */
  routes?: RedkitRouteDescription[]
}

export type RedkitDescriptionListener = (description: RedkitDescription<unknown>) => void

/** The descriptions handed to one redkit instance, by name. */
export class Descriptions {
  readonly #byName = new Map<string, RedkitDescription<any>>()
  /** Who described each route, by 'METHOD url'. */
  readonly #routes = new Map<string, string>()
  readonly #listeners: RedkitDescriptionListener[] = []

  add<S>(description: RedkitDescription<S>): void {
    checkDescription(description)
    const taken = this.#byName.get(description.name)
    if (taken !== undefined) throw new RedkitDuplicateDescriptionError(`${description.name} is already described by ${taken.package}`)
    const keys = (description.routes ?? []).map(routeKey)
    for (const key of keys) {
      const owner = this.#routes.get(key)
      if (owner !== undefined) throw new RedkitDuplicateDescriptionError(`route ${key} of ${description.package} is already described by ${owner}`)
    }
    for (const key of keys) this.#routes.set(key, description.package)
    this.#byName.set(description.name, description)
    for (const listener of this.#listeners) listener(description as RedkitDescription<unknown>)
  }

  list (): Array<RedkitDescription<unknown>> {
    return [...this.#byName.values()]
  }

  /** Calls `listener` with every description, those given already and those to come. */
  follow (listener: RedkitDescriptionListener): void {
    for (const d of this.#byName.values()) listener(d)
    this.#listeners.push(listener)
  }
}
