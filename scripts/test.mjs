#!/usr/bin/env node
// Root `pnpm test`: runs every workspace's tests through turbo (one package at
// a time, output streamed live), then counts the test points tap saved in
// <package>/.tap/test-results and prints "N passed, N failed, N skipped" as the last line.
//
// Exit code is non-zero when turbo failed, any test point failed, or nothing passed.
// Set REDKIT_SKIP_TURBO=1 to only summarise existing results (no clean, no run).

import { spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatCounts, RESULTS_SUBDIR, summarize, targets } from './tap-summary.mjs'

const root = resolvePath(fileURLToPath(new URL('..', import.meta.url)))
const skipTurbo = process.env.REDKIT_SKIP_TURBO === '1'
const list = targets(root)

function runTurbo () {
  const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'turbo.cmd' : 'turbo')
  const args = ['run', 'test', '--continue', '--concurrency=1', '--output-logs=full', ...process.argv.slice(2)]
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(existsSync(bin) ? bin : 'turbo', args, {
        cwd: root,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      })
    } catch (err) {
      console.error(`test: could not start turbo: ${err.message}`)
      resolve(1)
      return
    }
    const forward = (signal) => { child.kill(signal) }
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('error', (err) => {
      console.error(`test: could not start turbo: ${err.message}`)
      resolve(1)
    })
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolve(code ?? (signal ? 1 : 0))
    })
  })
}

let turboCode = 0
if (!skipTurbo) {
  // Stale results from an earlier run must not be counted.
  for (const { dir } of list) {
    rmSync(join(dir, RESULTS_SUBDIR), { recursive: true, force: true })
  }
  turboCode = await runTurbo()
}

console.log('\n== test summary ==')
const total = await summarize(list)
if (turboCode !== 0) {
  console.log(`turbo run test exited with code ${turboCode}`)
  // A package can fail without a failing test point (a test file exiting
  // non-zero after passing, a crashed runner, a failed build): count it so the
  // summary line agrees with the exit code.
  if (total.failed === 0) total.failed = 1
}
if (total.passed === 0) console.log('no test passed')
console.log(formatCounts(total))
process.exitCode = turboCode !== 0 || total.failed > 0 || total.passed === 0 ? 1 : 0
