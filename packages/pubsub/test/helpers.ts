import type { Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import redkit from '@redkit/core'
import { logCapture, uniquePrefix } from '@redkit/testing'
import pubsub, { type PubsubOptions } from '../src/index.js'
import type { ContractBackend } from './contract.js'

export type CoreTarget = { url: string } | { clusterNodes: Array<{ host: string, port: number }> } | { mode: 'memory' }

export async function makeApp (target: CoreTarget, keyPrefix: string, opts: PubsubOptions = {}, logger: object | false = false,
  setup?: (app: FastifyInstance) => void): Promise<FastifyInstance> {
  const app = Fastify({ logger })
  await app.register(redkit, { ...target, keyPrefix, env: {} })
  try {
    await app.register(pubsub, opts)
    setup?.(app)
    await app.ready()
  } catch (err) {
    // Core connected before the plugin failed; its connection must not outlive the test.
    await app.redkit.client?.quit().catch(() => {})
    await app.close().catch(() => {})
    throw err
  }
  return app
}

export async function until (check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export function deferred (): { promise: Promise<void>, resolve: () => void } {
  let release!: () => void
  const promise = new Promise<void>((resolve) => { release = resolve })
  return { promise, resolve: release }
}

export interface Pair { a: FastifyInstance, b: FastifyInstance }

export async function pair (t: Test, backend: ContractBackend, opts?: PubsubOptions): Promise<Pair> {
  const prefix = uniquePrefix('pubsub')
  const a = await backend.make(prefix, opts)
  t.teardown(async () => await a.close())
  if (!backend.shared) return { a, b: a }
  const b = await backend.make(prefix, opts)
  t.teardown(async () => await b.close())
  return { a, b }
}

/**
 * Two instances on one fresh key prefix (`label`), closed at teardown; the
 * second one logs at info level into `logs`.
 */
export async function twoApps (t: Test, target: CoreTarget, label: string, opts: PubsubOptions = {}): Promise<Pair & { logs: ReturnType<typeof logCapture> }> {
  const prefix = uniquePrefix(label)
  const logs = logCapture()
  const a = await makeApp(target, prefix, opts)
  t.teardown(async () => await a.close())
  const b = await makeApp(target, prefix, opts, { level: 'info', stream: logs.stream })
  t.teardown(async () => await b.close())
  return { a, b, logs }
}

export async function errorCode (fn: () => unknown): Promise<string | undefined> {
  try {
    await fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}
