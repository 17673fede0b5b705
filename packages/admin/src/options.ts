import { ADMIN_MAX_PAGE_SIZE, ADMIN_PAGE_SIZE, optionChecker, type OptionChecker } from '@redkit/core/kit'
import type { FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { AdminInvalidOptionError } from './errors.js'

export const DEFAULT_PREFIX = '/admin'
export const DEFAULT_READY_TIMEOUT = 1000
/** The page sizes of the listings, which the packages' own route schemas take from core. */
export const DEFAULT_PAGE_SIZE = ADMIN_PAGE_SIZE
export const MAX_PAGE_SIZE = ADMIN_MAX_PAGE_SIZE
export const DEFAULT_SLOWLOG_COUNT = 50
export const MAX_SLOWLOG_COUNT = 1000
/** A shorter token is too easy to guess for something that can revoke every session. */
export const MIN_TOKEN_LENGTH = 16

/** Decides whether a request may use the admin routes. */
export type AdminAuthHook = (request: FastifyRequest) => boolean | Promise<boolean>

export interface AdminOptions {
  /** Where the routes live. Default '/admin'. */
  prefix?: string
  /** Shared secret, sent as `Authorization: Bearer <token>`. At least 16 characters. */
  token?: string
  /** Custom check, e.g. `(request) => request.user?.isAdmin === true`. */
  auth?: AdminAuthHook
  /** Serve every route without any check. Only for tests and trusted networks. */
  dangerouslyDisableAuth?: boolean
  /** Also mount GET /health and GET /ready under this prefix ('' for the root), outside the admin prefix. */
  healthPrefix?: string
  /** Deadline of the readiness check in ms. Default 1000. */
  readyTimeout?: number
  /** Serve the dashboard at GET <prefix>/. Default true. */
  dashboard?: boolean
  /** Serve GET <prefix>/metrics. Default true. */
  metrics?: boolean
  /** prom-client registry to fill; by default each plugin instance has its own. */
  registry?: Registry
  /**
   * Accept state-changing requests a browser marks `Sec-Fetch-Site: same-site`
   * (another subdomain of the same site). Default false: only same-origin pages may.
   */
  allowSameSite?: boolean
}

export interface ResolvedAdminOptions {
  prefix: string
  token: string | undefined
  auth: AdminAuthHook | undefined
  authDisabled: boolean
  healthPrefix: string | undefined
  readyTimeout: number
  dashboard: boolean
  metrics: boolean
  registry: Registry | undefined
  allowSameSite: boolean
}

const KNOWN = new Set(['prefix', 'token', 'auth', 'dangerouslyDisableAuth', 'healthPrefix', 'readyTimeout', 'dashboard',
  'metrics', 'registry', 'allowSameSite'])

const check: OptionChecker = optionChecker(AdminInvalidOptionError)

function checkPrefix (value: unknown, name: string, allowEmpty: boolean): string {
  if (typeof value !== 'string') check.fail(`${name} must be a string like '/admin'`)
  const trimmed = value.replace(/\/+$/, '')
  if (trimmed === '' && allowEmpty) return ''
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes('//')) {
    check.fail(`${name} must start with '/' and hold only letters, digits and . _ ~ - /, got ${JSON.stringify(value)}`)
  }
  return trimmed
}

export function checkOptions (options: AdminOptions | undefined): ResolvedAdminOptions {
  const opts = check.options<AdminOptions>(options ?? {}, KNOWN)
  const { token } = opts
  if (token !== undefined) {
    // The token itself is never echoed.
    if (typeof token !== 'string') check.fail('token must be a string')
    if (token.length < MIN_TOKEN_LENGTH) check.fail(`token must be at least ${MIN_TOKEN_LENGTH} characters; generate one with \`openssl rand -hex 32\``)
  }
  const auth = check.func<AdminAuthHook>(opts.auth, 'auth', '(request) => boolean | Promise<boolean>')
  const authDisabled = check.boolean(opts.dangerouslyDisableAuth, 'dangerouslyDisableAuth', false)
  if (authDisabled && (token !== undefined || auth !== undefined)) {
    check.fail('dangerouslyDisableAuth cannot be combined with token or auth; remove one')
  }
  if (!authDisabled && token === undefined && auth === undefined) {
    check.fail('admin routes need authentication: set `token` (Bearer token) or `auth` (a function of the request), ' +
      'or `dangerouslyDisableAuth: true` for a trusted network')
  }
  const readyTimeout = check.integer(opts.readyTimeout, 'readyTimeout (ms)', 1, 60_000, DEFAULT_READY_TIMEOUT)
  const registry = opts.registry
  if (registry !== undefined && (typeof registry !== 'object' || registry === null ||
      typeof (registry as { metrics?: unknown }).metrics !== 'function')) {
    check.fail('registry must be a prom-client Registry')
  }
  const prefix = opts.prefix === undefined ? DEFAULT_PREFIX : checkPrefix(opts.prefix, 'prefix', true)
  const healthPrefix = opts.healthPrefix === undefined ? undefined : checkPrefix(opts.healthPrefix, 'healthPrefix', true)
  if (healthPrefix === prefix) check.fail('healthPrefix must differ from prefix; /health and /ready are always served under prefix')
  return {
    prefix,
    token,
    auth,
    authDisabled,
    healthPrefix,
    readyTimeout,
    dashboard: check.boolean(opts.dashboard, 'dashboard', true),
    metrics: check.boolean(opts.metrics, 'metrics', true),
    registry,
    allowSameSite: check.boolean(opts.allowSameSite, 'allowSameSite', false)
  }
}
