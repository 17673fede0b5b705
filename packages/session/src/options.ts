import { optionChecker, type OptionChecker } from '@redkit/core/kit'
import { SessionInvalidOptionError } from './errors.js'

export const DEFAULT_TTL = 86_400_000
export const DEFAULT_MAX_SIZE = 64 * 1024
export const DEFAULT_USER_FIELD = 'userId'
export const DEFAULT_TOMBSTONE_TTL = 300_000
export const DEFAULT_MAX_ENTRIES = 10_000
export const DEFAULT_BRIDGE_TTL = 60
export const MAX_BRIDGE_TTL = 86_400
export const DEFAULT_COOKIE_NAME = 'sessionId'
export const MIN_SECRET_LENGTH = 32
const MAX_TTL = 2_000_000_000

export interface SessionStoreOptions {
  /** Lifetime in ms of a session whose cookie has no expiry. Default 86400000 (24 h). */
  ttl?: number
  /** Largest session or bridge payload in bytes of JSON. Default 65536. */
  maxSize?: number
  /** Session field that holds the user id for the per-user index; false turns the index off. Default 'userId'. */
  userField?: string | false
  /** Time in ms a destroyed session id stays blocked against late writes. Default 300000 (5 min). */
  tombstoneTtl?: number
  /** Most sessions (and, separately, bridge tokens) the in-memory backend keeps. Default 10000. */
  maxEntries?: number
}

export interface ResolvedStoreOptions {
  ttlMs: number
  maxSize: number
  userField: string | false
  tombstoneTtlMs: number
  maxEntries: number
}

export interface SessionCookieOptions {
  /** Cookie and session lifetime in ms; without it the cookie lasts for the browser session and the store uses `ttl`. */
  maxAge?: number
  path?: string
  domain?: string
  sameSite?: 'lax' | 'strict' | 'none' | boolean
  /** Default: true in production (NODE_ENV=production), 'auto' otherwise. */
  secure?: boolean | 'auto'
  httpOnly?: boolean
  partitioned?: boolean
}

export interface SessionPluginOptions extends SessionStoreOptions {
  /** Signing secret of at least 32 characters; with an array, the first signs and all verify. */
  secret: string | string[]
  cookieName?: string
  cookie?: SessionCookieOptions
  /** Re-send the cookie and move the expiry on every request. Unchanged sessions are only touched. Default true. */
  rolling?: boolean
  /** Store sessions nobody wrote to. Default false. */
  saveUninitialized?: boolean
  /** Generates session ids; they must match /^[A-Za-z0-9_-]{8,128}$/. */
  idGenerator?: (request?: unknown) => string
  /** Treat the app as production (secure cookies). Default: NODE_ENV === 'production'. */
  production?: boolean
}

const check: OptionChecker = optionChecker(SessionInvalidOptionError)
const { integer, boolean } = check

/**
 * A duration in ms of at least a second. Both were seconds before the first
 * release, so a value below 1000 is most likely one still in seconds.
 */
function duration (value: unknown, name: string): number {
  if (typeof value === 'number' && value < 1000) {
    check.fail(`${name} is in milliseconds and must be at least 1000 (1 s), got ${value}; multiply a value in seconds by 1000`)
  }
  return integer(value, `${name} (ms)`, 1000, MAX_TTL)
}

const STORE_KEYS = ['ttl', 'maxSize', 'userField', 'tombstoneTtl', 'maxEntries']
const PLUGIN_KEYS = new Set([...STORE_KEYS, 'secret', 'cookieName', 'cookie', 'rolling', 'saveUninitialized',
  'idGenerator', 'production'])
const COOKIE_KEYS = new Set(['maxAge', 'path', 'domain', 'sameSite', 'secure', 'httpOnly', 'partitioned'])

/** The options of a SessionStore made by hand, which takes only the store's own. */
export function checkOwnStoreOptions (options?: SessionStoreOptions): ResolvedStoreOptions {
  return checkStoreOptions(check.options<SessionStoreOptions>(options, STORE_KEYS))
}

export function checkStoreOptions (options?: SessionStoreOptions): ResolvedStoreOptions {
  const opts = check.object(options, 'options') as SessionStoreOptions
  const userField = opts.userField ?? DEFAULT_USER_FIELD
  if (userField !== false && (typeof userField !== 'string' || userField === '' || userField === 'cookie')) {
    check.fail(`userField must be a non-empty field name other than "cookie", or false, got ${JSON.stringify(userField)}`)
  }
  return {
    ttlMs: duration(opts.ttl ?? DEFAULT_TTL, 'ttl'),
    maxSize: integer(opts.maxSize ?? DEFAULT_MAX_SIZE, 'maxSize (bytes)', 64, 512 * 1024 * 1024),
    userField,
    tombstoneTtlMs: duration(opts.tombstoneTtl ?? DEFAULT_TOMBSTONE_TTL, 'tombstoneTtl'),
    maxEntries: integer(opts.maxEntries ?? DEFAULT_MAX_ENTRIES, 'maxEntries', 1, 100_000_000)
  }
}

function checkSecret (secret: unknown): string | string[] {
  const secrets = Array.isArray(secret) ? secret : [secret]
  if (secret === undefined) check.fail(`secret is required: pass a random string of at least ${MIN_SECRET_LENGTH} characters`)
  if (secrets.length === 0) check.fail('secret must not be an empty array')
  secrets.forEach((s, i) => {
    const name = Array.isArray(secret) ? `secret[${i}]` : 'secret'
    if (typeof s !== 'string') check.fail(`${name} must be a string`)
    if (s.length < MIN_SECRET_LENGTH) check.fail(`${name} must be at least ${MIN_SECRET_LENGTH} characters, got ${s.length}`)
  })
  return secret as string | string[]
}

function checkCookie (cookie: unknown): SessionCookieOptions {
  const c = check.options<SessionCookieOptions>(cookie, COOKIE_KEYS, 'cookie')
  if (c.maxAge !== undefined) integer(c.maxAge, 'cookie.maxAge (ms)', 1000, MAX_TTL)
  if (c.secure !== undefined) check.oneOf(c.secure, 'cookie.secure', [true, false, 'auto'])
  if (c.sameSite !== undefined) check.oneOf(c.sameSite, 'cookie.sameSite', ['lax', 'strict', 'none', true, false])
  if (c.sameSite === 'none' && c.secure === false) check.fail("cookie.sameSite 'none' needs secure cookies")
  return c
}

export interface ResolvedPluginOptions {
  store: ResolvedStoreOptions
  secret: string | string[]
  cookieName: string
  cookie: SessionCookieOptions
  rolling: boolean
  saveUninitialized: boolean
  idGenerator?: (request?: unknown) => string
}

export function checkPluginOptions (opts: SessionPluginOptions): ResolvedPluginOptions {
  if (opts === undefined || opts === null) check.fail('options must be an object with at least a secret')
  check.options(opts, PLUGIN_KEYS)
  const secret = checkSecret(opts.secret)
  const cookieName = opts.cookieName ?? DEFAULT_COOKIE_NAME
  if (typeof cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    check.fail(`cookieName must be a valid cookie name, got ${JSON.stringify(cookieName)}`)
  }
  const idGenerator = check.func<(request?: unknown) => string>(opts.idGenerator, 'idGenerator', '(request) => string')
  const production = boolean(opts.production, 'production', process.env.NODE_ENV === 'production')
  const cookie = checkCookie(opts.cookie)
  return {
    store: checkStoreOptions(opts),
    secret,
    cookieName,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: production ? true : 'auto',
      ...cookie
    },
    rolling: boolean(opts.rolling, 'rolling', true),
    saveUninitialized: boolean(opts.saveUninitialized, 'saveUninitialized', false),
    ...(idGenerator !== undefined ? { idGenerator } : {})
  }
}
