import { randomBytes } from 'node:crypto'

export interface DemoConfig {
  port: number
  host: string
  logLevel: string
  sessionSecret: string
  adminToken: string
  production: boolean
  /** Session cookies only over HTTPS; defaults to true in production. */
  cookieSecure: boolean
  /** Fastify's trustProxy: false, true, or comma-separated proxy addresses/CIDRs. */
  trustProxy: boolean | string
  /** Requests per minute per client on GET /api/items. */
  itemsRateLimit: number
  /** Generated secrets are fine on a laptop and refused in production. */
  generated: string[]
}

function fail (message: string): never {
  throw new Error(`Invalid demo configuration: ${message}`)
}

function trustProxyOf (value: string | undefined): boolean | string {
  if (value === undefined || value === '' || value === 'false') return false
  return value === 'true' ? true : value
}

export function loadConfig (env: Record<string, string | undefined> = process.env): DemoConfig {
  const production = env.NODE_ENV === 'production'
  const generated: string[] = []
  const secret = (name: string, min: number): string => {
    const value = env[name]
    if (value !== undefined && value !== '') {
      if (value.length < min) fail(`${name} must be at least ${min} characters`)
      return value
    }
    if (production) fail(`${name} is required when NODE_ENV=production`)
    generated.push(name)
    return randomBytes(32).toString('base64url')
  }
  const port = Number(env.PORT ?? 3000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`)
  const itemsRateLimit = Number(env.ITEMS_RATE_LIMIT ?? 600)
  if (!Number.isInteger(itemsRateLimit) || itemsRateLimit < 1) fail(`ITEMS_RATE_LIMIT must be a positive integer, got ${JSON.stringify(env.ITEMS_RATE_LIMIT)}`)
  const cookieSecure = env.COOKIE_SECURE === undefined || env.COOKIE_SECURE === '' ? production : env.COOKIE_SECURE === 'true'
  if (env.COOKIE_SECURE !== undefined && env.COOKIE_SECURE !== '' && !['true', 'false'].includes(env.COOKIE_SECURE)) {
    fail(`COOKIE_SECURE must be true or false, got ${JSON.stringify(env.COOKIE_SECURE)}`)
  }
  return {
    port,
    cookieSecure,
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    itemsRateLimit,
    host: env.HOST ?? '0.0.0.0',
    logLevel: env.LOG_LEVEL ?? 'info',
    sessionSecret: secret('SESSION_SECRET', 32),
    adminToken: secret('ADMIN_TOKEN', 16),
    production,
    generated
  }
}
