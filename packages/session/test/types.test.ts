import { test } from 'tap'
import Fastify from 'fastify'
import { redkit } from '@redkit/core'
import { redkitSession, RedisSessionStore, type BridgeTokens, type SessionAdmin, type UserSession } from '../src/index.js'
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
  expectType<Equal<typeof app.sessions.store, RedisSessionStore>>(true)
  expectType<Equal<Awaited<ReturnType<typeof app.bridgeTokens.redeem<{ a: number }>>>, { a: number } | null>>(true)
  // Compile-time only: these registrations never run.
  const compileOnly = (): void => {
    // @ts-expect-error the secret is required
    app.register(redkitSession, {})
    // @ts-expect-error unknown options are rejected by the compiler too
    app.register(redkitSession, { secret: SECRET, colour: 'red' })
  }
  t.type(compileOnly, 'function')
  await app.ready()
  t.type(app.sessions.store, RedisSessionStore)
  await app.close()
})
