import { test } from 'tap'
import Fastify from 'fastify'
import { redkit } from '@redkit/core'
import {
  redkitSession, SessionStore, RedisSessionStore, type BridgeTokens, type IndexCleanupReport, type SessionAdmin, type SessionCounts,
  type SessionListPage, type SessionInfo, type SessionMeta, type UserSession
} from '../src/index.js'
import { SECRET } from './helpers.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (_: T): void {}

test('decorator types', async (t) => {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(redkitSession, { secret: SECRET })
  expectType<Equal<typeof app.sessions, SessionAdmin>>(true)
  expectType<Equal<typeof app.bridgeTokens, BridgeTokens>>(true)
  expectType<Equal<ReturnType<SessionAdmin['listByUser']>, Promise<UserSession[]>>>(true)
  expectType<Equal<ReturnType<SessionAdmin['revokeAll']>, Promise<number>>>(true)
  expectType<Equal<typeof app.sessions.store, SessionStore>>(true)
  // The deprecated name stays an alias of both the class and its instance type.
  expectType<Equal<RedisSessionStore, SessionStore>>(true)
  expectType<Equal<typeof RedisSessionStore, typeof SessionStore>>(true)
  expectType<Equal<ReturnType<SessionAdmin['meta']>, Promise<SessionInfo | null>>>(true)
  expectType<Equal<SessionMeta, SessionInfo>>(true)
  expectType<Equal<ReturnType<SessionAdmin['list']>, Promise<SessionListPage>>>(true)
  expectType<Equal<SessionListPage['cursor'], string | null>>(true)
  expectType<Equal<keyof SessionInfo, 'sessionId' | 'userId' | 'created' | 'expires' | 'ip' | 'userAgent'>>(true)
  expectType<Equal<Awaited<ReturnType<SessionAdmin['count']>>, SessionCounts>>(true)
  expectType<Equal<keyof SessionCounts, 'sessions' | 'users'>>(true)
  expectType<Equal<keyof IndexCleanupReport, 'indexes' | 'checked' | 'removed'>>(true)
  expectType<Equal<Awaited<ReturnType<typeof app.bridgeTokens.redeem<{ a: number }>>>, { a: number } | null>>(true)
  // Compile-time only: these registrations never run.
  const compileOnly = (): void => {
    // @ts-expect-error the secret is required
    app.register(redkitSession, {})
    // @ts-expect-error unknown options are rejected by the compiler too
    app.register(redkitSession, { secret: SECRET, colour: 'red' })
    // @ts-expect-error the limit is a number
    app.sessions.list({ limit: '10' })
    // @ts-expect-error list takes options, not a cursor string
    app.sessions.list('cursor')
  }
  t.type(compileOnly, 'function')
  await app.ready()
  t.type(app.sessions.store, SessionStore)
  t.equal(RedisSessionStore, SessionStore, 'RedisSessionStore is the same class')
  t.same(await app.sessions.list(), { sessions: [], cursor: null })
  await app.close()
})
