import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where @fastify/rate-limit's own test files are: its installed package, not a copy. */
export const PEER_DIR = dirname(createRequire(import.meta.url).resolve('@fastify/rate-limit/package.json'))
const HERE = dirname(fileURLToPath(import.meta.url))

const FILE_TIMEOUT = 150_000

export type Mode = 'mirror' | 'redis' | 'memory' | 'builtin'

export interface PeerTest {
  file: string
  name: string
  path: string
  ok: boolean
  skip?: string
  error?: string
}

export interface RunOptions {
  mode: Mode
  algorithm: string
  /** Harness redis-server the peer's ioredis clients are sent to. */
  port: number
  /** Test name → reason it is skipped. */
  skip: Record<string, string>
}

export function peerTestFiles (): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.endsWith('.test.js')) out.push(full)
    }
  }
  walk(join(PEER_DIR, 'test'))
  return out
}

async function runFile (file: string, opts: RunOptions): Promise<PeerTest[]> {
  const args = ['--require', join(HERE, 'preload.cjs'), `--test-reporter=${join(HERE, 'reporter.mjs')}`,
    '--test-force-exit', '--no-warnings', file]
  const child = spawn(process.execPath, args, {
    cwd: PEER_DIR,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      CONFORMANCE_MODE: opts.mode,
      CONFORMANCE_ALGORITHM: opts.algorithm,
      CONFORMANCE_REDIS_PORT: String(opts.port),
      CONFORMANCE_PEER_DIR: PEER_DIR,
      CONFORMANCE_SKIP: JSON.stringify(opts.skip)
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  // A peer test that waits forever on a store must not hang the run.
  const timer = setTimeout(() => child.kill('SIGKILL'), FILE_TIMEOUT)
  await new Promise((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  const name = relative(join(PEER_DIR, 'test'), file)
  const results: PeerTest[] = []
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue
    results.push({ file: name, ...JSON.parse(line) as Omit<PeerTest, 'file'> })
  }
  if (results.length === 0) throw new Error(`${name}: no test results; stderr: ${err.slice(0, 2000)}`)
  return results
}

/** Runs every peer test file, one process each, in order. */
export async function runConformance (opts: RunOptions): Promise<PeerTest[]> {
  const all: PeerTest[] = []
  for (const file of peerTestFiles()) all.push(...await runFile(file, opts))
  return all
}
