import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
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

  const held = await a.locks.acquire('resub')
  const waiting = b.locks.acquire('resub', { timeout: 30_000 })
  await until(() => b.locks.stats().subscriptionLosses > 0)
  t.equal(b.locks.stats().subscribed, false)
  t.ok(b.locks.stats().subscriptionLosses >= 1, 'the failed subscription is counted')
  await acl('SETUSER', user, '+subscribe')
  await until(() => b.locks.stats().subscribed)
  t.equal(b.locks.stats().subscribed, true, 'subscribed after a retry')
  await held.release()
  const second = await waiting
  t.ok(second.token > held.token, 'the waiter was woken, not left to poll')

  // The subscriber connection is killed and subscribing again fails, for a while: on Cluster
  // ioredis then moves the subscription to another node and gives up on it silently.
  const losses = a.locks.stats().subscriptionLosses
  const again = a.locks.acquire('resub', { timeout: 30_000 })
  await sleep(100)
  await acl('SETUSER', user, '-subscribe')
  await Promise.all(opts.nodes.map(async (n) => await n.call('CLIENT', 'KILL', 'TYPE', 'pubsub')))
  await until(() => a.locks.stats().subscriptionLosses > losses)
  t.ok(a.locks.stats().subscriptionLosses > losses, 'the loss is noticed and counted')
  await acl('SETUSER', user, '+subscribe')
  await until(() => a.locks.stats().subscribed)
  t.equal(a.locks.stats().subscribed, true, 'subscribed again')
  await second.release()
  const last = await again
  t.ok(last.token > second.token, 'woken after the kill, not left to poll')
  await last.release()
}
