import { RedkitInvalidDescriptionError } from './errors.js'
import type {
  RedkitDescription, RedkitMetricDescription, RedkitPanelDescription, RedkitPanelValue, RedkitRouteDescription
} from './describe.js'

/* Checks a description when it is handed over, so a mistake fails at registration rather than in the admin. */

const NAME = /^[a-z][a-z0-9-]{0,39}$/
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const URL_PATH = /^\/[A-Za-z0-9._~\-/:]*$/
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])

type Fail = (message: string) => never

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function list<T> (value: T[] | undefined, what: string, fail: Fail): T[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(`${what} must be an array`)
  return value
}

export function routeKey (route: Pick<RedkitRouteDescription, 'method' | 'url'>): string {
  return `${route.method} ${route.url}`
}

function checkMetrics (metrics: RedkitMetricDescription<any>[] | undefined, fail: Fail): void {
  const seen = new Set<string>()
  for (const m of list(metrics, 'metrics', fail)) {
    if (!isObject(m) || typeof m.name !== 'string' || !METRIC.test(m.name)) fail(`invalid metric name ${JSON.stringify(m?.name)}`)
    if (seen.has(m.name)) fail(`metric ${m.name} is described twice`)
    seen.add(m.name)
    if (m.type !== 'counter' && m.type !== 'gauge') fail(`metric ${m.name} must be a counter or a gauge`)
    if (typeof m.read !== 'function' || typeof m.help !== 'string') fail(`metric ${m.name} needs help and read`)
  }
}

function checkRoute (route: RedkitRouteDescription, fail: Fail): void {
  if (!isObject(route)) fail('each route must be an object')
  const key = routeKey(route)
  if (!METHODS.has(route.method)) fail(`route ${key}: method must be one of ${[...METHODS].join(', ')}`)
  if (typeof route.url !== 'string' || !URL_PATH.test(route.url) || route.url.includes('//')) {
    fail(`route ${key}: url must start with '/' and hold only letters, digits, :params and . _ ~ - /`)
  }
  if (typeof route.summary !== 'string' || route.summary === '') fail(`route ${key}: summary must be a non-empty string`)
  if (typeof route.handler !== 'function') fail(`route ${key}: handler must be a function`)
  if (route.changesState !== undefined && typeof route.changesState !== 'boolean') fail(`route ${key}: changesState must be true or false`)
  if (route.changesState === false && route.method !== 'GET') fail(`route ${key}: a ${route.method} route changes state`)
  if (!isObject(route.schema) || !isObject(route.schema.response)) fail(`route ${key}: schema.response must be the JSON Schema of the reply`)
  for (const part of ['querystring', 'params', 'body'] as const) {
    if (route.schema[part] !== undefined && !isObject(route.schema[part])) fail(`route ${key}: schema.${part} must be a JSON Schema object`)
  }
}

function checkRoutes (routes: RedkitRouteDescription[] | undefined, fail: Fail): Set<string> {
  const keys = new Set<string>()
  for (const route of list(routes, 'routes', fail)) {
    checkRoute(route, fail)
    if (keys.has(routeKey(route))) fail(`route ${routeKey(route)} is described twice`)
    keys.add(routeKey(route))
  }
  return keys
}

function checkValues (values: RedkitPanelValue[] | undefined, what: string, fail: Fail): void {
  for (const v of list(values, what, fail)) {
    if (!isObject(v) || typeof v.label !== 'string' || typeof v.path !== 'string') fail(`${what}: each needs a label and a path`)
  }
}

function checkPanel (panel: RedkitPanelDescription | undefined, routes: Set<string>, fail: Fail): void {
  if (panel === undefined) return
  if (!isObject(panel) || typeof panel.title !== 'string') fail('panel needs a title')
  const described = (call: { method?: unknown, url?: unknown } | undefined, what: string): void => {
    if (!isObject(call) || !routes.has(`${String(call.method)} ${String(call.url)}`)) {
      fail(`panel ${what} calls ${String(call?.method)} ${String(call?.url)}, which is not among the described routes`)
    }
  }
  checkValues(panel.values, 'panel values', fail)
  for (const table of list(panel.tables, 'panel tables', fail)) {
    if (!isObject(table) || typeof table.path !== 'string') fail('each panel table needs a path')
    checkValues(table.columns, 'panel table columns', fail)
  }
  for (const l of list(panel.lists, 'panel lists', fail)) {
    if (!isObject(l) || typeof l.path !== 'string') fail('each panel list needs a path')
    described({ method: 'GET', url: l.url }, 'list')
    checkValues(l.columns, 'panel list columns', fail)
    if (l.filter !== undefined) described(isObject(l.filter) ? { method: 'GET', url: l.filter.url } : undefined, 'list filter')
    for (const a of list(l.rowActions, 'panel list rowActions', fail)) described(a, `row action ${a?.label}`)
  }
  for (const a of list(panel.actions, 'panel actions', fail)) {
    if (!isObject(a) || typeof a.label !== 'string' || typeof a.done !== 'string') fail('each panel action needs a label and a done message')
    described(a, `action ${a.label}`)
  }
}

/** Throws FST_REDKIT_INVALID_DESCRIPTION for the first thing wrong in `d`. */
export function checkDescription (d: RedkitDescription<any>): void {
  if (!isObject(d)) throw new RedkitInvalidDescriptionError('describe() takes a description object')
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    throw new RedkitInvalidDescriptionError(`name must match ${String(NAME)}, got ${JSON.stringify(d.name)}`)
  }
  const fail: Fail = (message) => { throw new RedkitInvalidDescriptionError(`${d.name}: ${message}`) }
  if (typeof d.package !== 'string' || d.package === '') fail('package must be a non-empty string')
  if (typeof d.stats !== 'function') fail('stats must be a function')
  if (!isObject(d.statsSchema)) fail('statsSchema must be a JSON Schema object')
  checkMetrics(d.metrics, fail)
  checkPanel(d.panel, checkRoutes(d.routes, fail), fail)
}
