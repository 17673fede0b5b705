import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { redkit, type RedkitOptions } from '@redkit/core'
import { logCapture } from '@redkit/testing'
import { redkitSession, type SessionPluginOptions } from '../src/index.js'

export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

declare module 'fastify' {
  interface Session {
    userId?: string
    [key: string]: unknown
  }
}

export interface Teardown { teardown: (fn: () => unknown) => void }

/** A gate a handler waits on, so a test can order requests deterministically. */
export interface Gate {
  reached: Promise<void>
  open: () => void
}

export function gate (): Gate & { enter: () => Promise<void> } {
  let reach!: () => void
  let release!: () => void
  const reached = new Promise<void>((resolve) => { reach = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  return {
    reached,
    open: () => release(),
    enter: async () => {
      reach()
      await released
    }
  }
}

export interface AppHandle {
  app: FastifyInstance
  logs: ReturnType<typeof logCapture>
  gates: Map<string, ReturnType<typeof gate>>
}

/** An app with core, the session plugin and a few routes that use the session. */
export async function buildApp (t: Teardown, core: RedkitOptions, session: Partial<SessionPluginOptions> = {}): Promise<AppHandle> {
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'debug', stream: logs.stream } })
  t.teardown(async () => await app.close())
  await app.register(redkit, { env: {}, ...core })
  await app.register(redkitSession, { secret: SECRET, production: false, ...session })
  const gates = new Map<string, ReturnType<typeof gate>>()

  app.post<{ Body: { user: string } }>('/login', async (request) => {
    await request.session.regenerate()
    request.session.userId = request.body.user
    return { sessionId: request.session.sessionId }
  })
  app.get('/me', async (request) => {
    const { cookie, ...data } = request.session as unknown as Record<string, unknown>
    return { sessionId: request.session.sessionId, data }
  })
  app.post<{ Params: { field: string }, Body: { value: unknown } }>('/set/:field', async (request) => {
    request.session.set(request.params.field, request.body.value)
    return { ok: true }
  })
  app.post<{ Params: { field: string } }>('/del/:field', async (request) => {
    request.session.set(request.params.field, undefined)
    return { ok: true }
  })
  app.post<{ Params: { name: string, field: string } }>('/slow/:name/:field', async (request) => {
    await gates.get(request.params.name)?.enter()
    request.session.set(request.params.field, 'late')
    return { ok: true }
  })
  app.post('/logout', async (request) => {
    await request.session.destroy()
    return { ok: true }
  })
  app.post('/regenerate', async (request) => {
    const old = request.session.sessionId
    await request.session.regenerate(['userId'])
    return { old, now: request.session.sessionId }
  })
  return { app, logs, gates }
}

export function sessionCookie (res: LightMyRequestResponse, name = 'sessionId'): string {
  const cookie = res.cookies.find((c) => c.name === name)
  if (cookie === undefined) throw new Error(`no ${name} cookie in response (status ${res.statusCode}: ${res.body})`)
  return cookie.value
}

export async function login (app: FastifyInstance, user: string, headers: Record<string, string> = {}): Promise<{ cookie: string, sessionId: string }> {
  const res = await app.inject({ method: 'POST', url: '/login', payload: { user }, headers })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return { cookie: sessionCookie(res), sessionId: res.json<{ sessionId: string }>().sessionId }
}

export async function me (app: FastifyInstance, cookie: string): Promise<{ sessionId: string, data: Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url: '/me', cookies: { sessionId: cookie } })
  return res.json()
}

export { keysWithoutTtl, countKeys } from '@redkit/testing'
