import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Lock } from '../src/index.js'
import { sleep } from './helpers.js'

/** Waiters that only release messages can wake in time: polling and leases far longer than the test. */
export const SLOW = { pollInterval: 60_000, ttl: 60_000 }

async function until (check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(50)
}

/**
 * The wake-up subscription of an app whose user may not SUBSCRIBE at first
 * (as against a node that cannot serve it) is retried until it works, and one
 * killed from the server side is counted and made again; each time, a release
 * wakes a waiter on another instance.
 */
export async function resubscribe (t: Test, opts: { nodes: Redis[], app: (user: string) => Promise<FastifyInstance> }): Promise<void> {
  const user = `locker${process.pid}${Date.now()}`
  const acl = async (...args: string[]): Promise<void> => { await Promise.all(opts.nodes.map(async (n) => await n.call('ACL', ...args))) }
  await acl('SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-subscribe')
  t.teardown(async () => { await acl('DELUSER', user) })
  const a = await opts.app(user)
  const b = await opts.app(user)
  t.teardown(async () => { await a.close(); await b.close() })

  /** Lets `app` subscribe again; then releasing `held` must wake `waiting` at once rather than at its next poll. */
  const allowAndWake = async (app: FastifyInstance, held: Lock, waiting: Promise<Lock>, subscribed: string, woken: string): Promise<Lock> => {
    await acl('SETUSER', user, '+subscribe')
    await until(() => app.locks.stats().subscribed)
    t.equal(app.locks.stats().subscribed, true, subscribed)
    await held.release()
    const next = await waiting
    t.ok(next.token > held.token, woken)
    return next
  }

  const held = await a.locks.acquire('resub')
  const waiting = b.locks.acquire('resub', { timeout: 30_000 })
  await until(() => b.locks.stats().subscriptionLosses > 0)
  t.equal(b.locks.stats().subscribed, false)
  t.ok(b.locks.stats().subscriptionLosses >= 1, 'the failed subscription is counted')
  const second = await allowAndWake(b, held, waiting, 'subscribed after a retry', 'the waiter was woken, not left to poll')

  // The subscriber connection is killed and subscribing again fails, for a while: on Cluster
  // ioredis then moves the subscription to another node and gives up on it silently.
  const losses = a.locks.stats().subscriptionLosses
  const again = a.locks.acquire('resub', { timeout: 30_000 })
  await sleep(100)
  await acl('SETUSER', user, '-subscribe')
  await Promise.all(opts.nodes.map(async (n) => await n.call('CLIENT', 'KILL', 'TYPE', 'pubsub')))
  await until(() => a.locks.stats().subscriptionLosses > losses)
  t.ok(a.locks.stats().subscriptionLosses > losses, 'the loss is noticed and counted')
  const last = await allowAndWake(a, second, again, 'subscribed again', 'woken after the kill, not left to poll')
  await last.release()
}
