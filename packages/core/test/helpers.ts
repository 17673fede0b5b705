import Fastify, { type FastifyInstance } from 'fastify'
import { logCapture } from '@redkit/testing'
import { redkit, type RedkitOptions } from '../src/index.js'

export interface TestApp {
  app: FastifyInstance
  logs: ReturnType<typeof logCapture>
}

/** Builds an app with core registered and its log lines captured; closed on teardown. */
export async function buildApp (t: { teardown: (fn: () => unknown) => void }, options: RedkitOptions): Promise<TestApp> {
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'debug', stream: logs.stream } })
  t.teardown(async () => await app.close())
  await app.register(redkit, { env: {}, ...options })
  return { app, logs }
}
