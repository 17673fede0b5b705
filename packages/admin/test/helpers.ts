import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import redkit, { type RedkitOptions } from '@redkit/core'
import redkitSession from '@redkit/session'
import locks from '@redkit/lock'
import pubsub from '@redkit/pubsub'
import redkitCache from '@redkit/cache'
import redkitRateLimit from '@redkit/rate-limit'
import redkitAdmin, { type AdminOptions } from '../src/index.js'

export const TOKEN = 'test-admin-token-0123456789abcdef'
export const SECRET_CONTENT = 'TOP-SECRET-SESSION-CONTENT'
export const AUTH = { authorization: `Bearer ${TOKEN}` }

export interface Built {
  app: FastifyInstance
  routes: Array<{ method: string, url: string }>
}

export interface BuildOptions {
  admin?: AdminOptions
  /** Which redkit packages to register besides core; all by default. */
  packages?: Array<'session' | 'lock' | 'pubsub' | 'cache' | 'rate-limit'>
  extra?: (app: FastifyInstance) => Promise<void> | void
}

interface TestSession {
  sessionId: string
  set: (key: string, value: unknown) => void
  get: (key: string) => unknown
  save: () => Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** An app with core, the chosen packages, admin and a /login route that creates a session. */
export async function build (t: Teardown, core: RedkitOptions, opts: BuildOptions = {}): Promise<Built> {
  const app = Fastify({ logger: false })
  t.teardown(async () => await app.close())
  const routes: Built['routes'] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url })
  })
  const wanted = new Set(opts.packages ?? ['session', 'lock', 'pubsub', 'cache', 'rate-limit'])
  await app.register(redkit, core)
  if (wanted.has('session')) {
    await app.register(redkitSession, { secret: 'a-session-secret-of-at-least-32-characters', cookie: { secure: false } })
  }
  if (wanted.has('lock')) await app.register(locks)
  if (wanted.has('pubsub')) await app.register(pubsub)
  if (wanted.has('cache')) await app.register(redkitCache)
  if (wanted.has('rate-limit')) await app.register(redkitRateLimit)
  await app.register(redkitAdmin, opts.admin ?? { token: TOKEN })
  if (wanted.has('session')) {
    app.post<{ Body: { user: string } }>('/login', async (request) => {
      const session = (request as unknown as { session: TestSession }).session
      session.set('userId', request.body.user)
      session.set('cart', SECRET_CONTENT)
      await session.save()
      return { sessionId: session.sessionId }
    })
  }
  if (wanted.has('session')) {
    app.get('/whoami', async (request) => {
      const session = (request as unknown as { session: TestSession }).session
      return { user: session.get('userId') ?? null }
    })
  }
  await opts.extra?.(app)
  await app.ready()
  return { app, routes }
}

export async function login (app: FastifyInstance, user: string, agent = 'test-agent/1.0'): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user }, headers: { 'user-agent': agent } })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { sessionId: string }).sessionId
}

/** Fills route params with harmless values so every route can be called. */
export function concrete (url: string): string {
  return url.replace(':id', 'abcdefgh12345678').replace(':userId', 'someone').replace(':key', 'some-key')
}

/** Logs in and returns the session cookie, for requests made as that browser. */
export async function loginCookie (app: FastifyInstance, user: string): Promise<{ sessionId: string, cookie: string }> {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user } })
  const header = [res.headers['set-cookie']].flat()[0]
  if (res.statusCode !== 200 || typeof header !== 'string') throw new Error(`login failed: ${res.statusCode}`)
  return { sessionId: (res.json() as { sessionId: string }).sessionId, cookie: header.split(';')[0]! }
}
