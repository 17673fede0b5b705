import Fastify, { type FastifyInstance } from 'fastify'
import redkit from '@redkit/core'
import pubsub, { type PubsubOptions } from '../src/index.js'

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
