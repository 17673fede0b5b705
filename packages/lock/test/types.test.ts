import { test } from 'tap'
import Fastify from 'fastify'
import redkit from '@redkit/core'
import locks, {
  Lock, type LockHandle, type LockInfo, type LockPage, type Locks, type RouteLockOptions
} from '../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T> (value: T): T { return value }
function assertType<T extends true> (): T | undefined { return undefined }

test('decorator types', async (t) => {
  const app = Fastify()
  await app.register(redkit, { mode: 'memory', env: {} })
  await app.register(locks)
  t.teardown(async () => await app.close())

  expectType<Locks>(app.locks)
  assertType<Equal<typeof app.locks.acquire, (name: string, opts?: { ttl?: number, timeout?: number, signal?: AbortSignal }) => Promise<Lock>>>()
  assertType<Equal<Awaited<ReturnType<typeof app.locks.tryAcquire>>, Lock | null>>()
  assertType<Equal<Awaited<ReturnType<typeof app.locks.isLocked>>, LockInfo | null>>()
  assertType<Equal<Awaited<ReturnType<typeof app.locks.list>>, LockPage>>()
  assertType<Equal<LockPage['locks'], LockInfo[]>>()
  assertType<Equal<Awaited<ReturnType<typeof app.locks.count>>, number>>()
  expectType<LockHandle>(app.locks.semaphore('s', 2))
  const n: number = await app.locks.withLock('w', async (signal: AbortSignal, lock: Lock) => lock.token)
  // @ts-expect-error the name must be a string
  await app.locks.tryAcquire(1).catch(() => {})

  app.get('/r', { config: { lock: { key: (req) => req.url, ttl: 100, statusCode: 409 } } }, async (req) => {
    expectType<Lock | null>(req.lock)
    return 'ok'
  })
  expectType<RouteLockOptions['statusCode']>(423)
  // @ts-expect-error only 409 or 423
  expectType<RouteLockOptions['statusCode']>(500)

  const lock = await app.locks.acquire('x')
  t.type(lock, Lock)
  expectType<number>(lock.token)
  expectType<AbortSignal>(lock.signal)
  expectType<Promise<boolean>>(lock.extend(100))
  t.equal(await lock.release(), true)
  t.equal(n > 0, true)
})
