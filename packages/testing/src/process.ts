import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

const live = new Set<ChildProcess>()
const dirs = new Set<string>()

// A test that crashes or times out must not leave redis-server processes
// or temp dirs behind, so everything spawned is tracked and reaped on exit.
process.once('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL') } catch {}
  }
  for (const dir of dirs) {
    try { rmSync(dir, { recursive: true, force: true }) } catch {}
  }
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130))
}

export function serverBin (): string {
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' })
  if (probe.error != null || probe.status !== 0) {
    throw new Error(
      `Cannot run "${bin}": the test harness needs a local redis-server. ` +
      'Install it with "apt-get install -y redis-server" (Debian/Ubuntu) or ' +
      '"brew install redis" (macOS), or set REDIS_SERVER_BIN to its path.'
    )
  }
  return bin
}

export function cliBin (): string {
  return process.env.REDIS_CLI_BIN ?? 'redis-cli'
}

export function makeTempDir (label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `redkit-${label}-`))
  dirs.add(dir)
  return dir
}

export function removeDir (dir: string): void {
  dirs.delete(dir)
  rmSync(dir, { recursive: true, force: true })
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export class PortInUseError extends Error {}

export interface Spawned {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/**
 * Starts redis-server (or sentinel) with a config file and waits until the
 * log says it accepts connections.
 */
export async function spawnRedis (args: string[], readyPattern: RegExp, timeoutMs = 10_000): Promise<Spawned> {
  const child = spawn(serverBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let log = ''
  const collect = (chunk: Buffer): void => {
    // Only the tail matters for diagnostics; keep memory bounded.
    log = (log + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child)
      resolve(code)
    })
  })

  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (readyPattern.test(log)) {
      return { child, output: () => log, exited }
    }
    if (child.exitCode !== null || child.signalCode !== null) break
    await sleep(20)
  }
  child.kill('SIGKILL')
  await exited
  if (/Address already in use/.test(log)) throw new PortInUseError(log)
  throw new Error(`redis-server did not start (args: ${args.join(' ')}):\n${log.slice(-2000)}`)
}

export async function stopChild (spawned: Spawned, signal: NodeJS.Signals): Promise<void> {
  const { child } = spawned
  if (child.exitCode !== null || child.signalCode !== null) return
  // A stopped process ignores SIGTERM until continued.
  child.kill('SIGCONT')
  child.kill(signal)
  await spawned.exited
}

/** Reads the scheduler state of a pid from /proc ('T' means stopped). */
export function processState (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

export async function waitFor (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      lastError = err
    }
    await sleep(50)
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : ''
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`)
}
