import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import type { TestTarget } from '@redkit/testing'

const serverPath = fileURLToPath(new URL('../dist/server.js', import.meta.url))

export interface DemoInstance {
  url: string
  child: ChildProcess
  logs: string[]
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Starts one demo server process and waits until it listens. */
export async function startDemo (env: Record<string, string>): Promise<DemoInstance> {
  const child = spawn(process.execPath, [serverPath], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SESSION_SECRET: 'integration-secret-integration-secret-0123',
      ADMIN_TOKEN: 'integration-admin-token',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.add(child)
  const logs: string[] = []
  let buffer = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${logs.join('\n')}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        logs.push(line)
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`demo exited with ${code}:\n${logs.join('\n')}`))
    })
  })
  return {
    url,
    child,
    logs,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      const [code] = await once(child, 'exit') as [number | null]
      running.delete(child)
      return code
    }
  }
}

export async function startDemos (count: number, env: Record<string, string>): Promise<DemoInstance[]> {
  return await Promise.all(Array.from({ length: count }, async () => await startDemo(env)))
}

/**
 * `count` demo instances on the target, on a key prefix of their own, started
 * before t's first test and stopped at its teardown; returns them once started.
 */
export function demosOn (t: Test, target: TestTarget, count = 3): () => DemoInstance[] {
  let demos: DemoInstance[] = []
  t.before(async () => {
    demos = await startDemos(count, { ...target.env, REDIS_KEY_PREFIX: target.prefix(`demo-${target.kind}`) })
  })
  t.teardown(async () => { await Promise.all(demos.map(async (d) => await d.stop())) })
  return () => demos
}

/** A tiny cookie-keeping HTTP client, like a browser tab. */
export class Browser {
  cookies = new Map<string, string>()

  async fetch (url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at)
      const value = pair!.slice(at + 1)
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }
}
