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

/**
 * Records the commands of each socket write a connection makes from now on
 * (into `pieces`, which may be shared by several connections).
 */
export function spyWrites (connection: object, pieces: number[] = []): number[] {
  const socket = (connection as { stream: unknown }).stream as Record<'_write' | '_writev', (...a: unknown[]) => unknown>
  const write = socket._write.bind(socket)
  const writev = socket._writev.bind(socket)
  socket._write = (...args: unknown[]) => { pieces.push(1); return write(...args) }
  socket._writev = (chunks: unknown, ...rest: unknown[]) => { pieces.push((chunks as unknown[]).length); return writev(chunks, ...rest) }
  return pieces
}
