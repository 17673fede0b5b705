// Summarise the raw TAP that tap 21 saves for every test file at
// <package>/.tap/test-results/**/*.tap.
//
// Counting rules (per results file):
// - Leaf test points are counted at every nesting level. A point that only
//   closes a subtest is not counted again when it agrees with its subtest
//   (tap-parser's root 'pass' / 'fail' / 'skip' / 'todo' events), so a
//   subtest with 3 assertions counts 3, not 4. These are the same numbers
//   tap prints in its own "{ total, pass, fail, todo, skip }" line.
// - passed = ok and neither skip nor todo; failed = not ok and neither skip
//   nor todo; skipped = skip or todo.
// - A file with no TAP at all (crashed before running), a file that cannot be
//   parsed, or a file whose stream is not ok (missing plan, wrong count,
//   killed mid-run) without any failing point counts as 1 failed.
// - A file that bails out counts at least 1 failed.
// - A file that skips everything ("1..0 # skip") counts as 1 skipped.
//
// The closing line is always "N passed, N failed, N skipped"; skipped and todo
// points are listed with their reasons under their package's line.
//
// Usage as a script: node scripts/tap-summary.mjs [dir ...]
// Each dir is a package directory (with .tap/test-results inside) or a
// results directory itself. Without arguments the workspace packages are
// used; REDKIT_RESULTS_DIRS (comma separated) overrides that too.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join, relative, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Parser } from 'tap-parser'

export const RESULTS_SUBDIR = join('.tap', 'test-results')

const emptyCounts = () => ({ passed: 0, failed: 0, skipped: 0, files: 0, problems: [], skips: [] })

/** Skip reasons listed per package under the summary; the count covers the rest. */
const MAX_SKIPS_SHOWN = 10

/**
 * Count the test points of one TAP document.
 * @param {string} text raw TAP
 * @returns {Promise<{passed: number, failed: number, skipped: number, problems: string[]}>}
 */
export function summarizeTap (text) {
  return new Promise((resolve) => {
    const counts = { passed: 0, failed: 0, skipped: 0, problems: [], skips: [] }
    let parser
    try {
      parser = new Parser()
    } catch (err) {
      counts.failed = 1
      counts.problems.push(`parser error: ${err.message}`)
      resolve(counts)
      return
    }
    let bailout = null
    parser.on('pass', () => { counts.passed++ })
    parser.on('fail', () => { counts.failed++ })
    const skipped = (kind) => (result) => {
      counts.skipped++
      const reason = typeof result?.[kind] === 'string' && result[kind] ? `: ${result[kind]}` : ''
      counts.skips.push(`${kind} ${result?.name || '(unnamed)'}${reason}`)
    }
    parser.on('skip', skipped('skip'))
    parser.on('todo', skipped('todo'))
    parser.on('bailout', (reason) => { bailout = reason || true })
    parser.on('complete', (results) => {
      const sawPlan = /^\s*1\.\.\d+/m.test(text)
      const points = counts.passed + counts.failed + counts.skipped
      if (bailout !== null || results.bailout) {
        const reason = bailout ?? results.bailout
        counts.problems.push(`bailed out${typeof reason === 'string' && reason ? `: ${reason}` : ''}`)
        if (counts.failed === 0) counts.failed = 1
      } else if (points === 0 && !sawPlan) {
        counts.problems.push('no TAP output (test file crashed before running any test?)')
        counts.failed = 1
      } else if (points === 0 && results.plan?.skipAll) {
        counts.skipped = 1
        counts.skips.push(`skip all${results.plan.skipReason ? `: ${results.plan.skipReason}` : ''}`)
      } else if (!results.ok && counts.failed === 0) {
        const why = (results.failures || [])
          .map((f) => f.tapError || f.name)
          .filter(Boolean)
          .join('; ')
        counts.problems.push(`TAP stream not ok${why ? `: ${why}` : ''}`)
        counts.failed = 1
      }
      resolve(counts)
    })
    try {
      parser.end(text)
    } catch (err) {
      counts.failed = Math.max(counts.failed, 1)
      counts.problems.push(`parser error: ${err.message}`)
      resolve(counts)
    }
  })
}

function listTapFiles (dir) {
  const out = []
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const entry of entries) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listTapFiles(full))
    else if (entry.isFile() && entry.name.endsWith('.tap')) out.push(full)
  }
  return out.sort()
}

/**
 * Resolve the results directory for a package dir (or a results dir itself).
 * @param {string} dir
 */
export function resultsDirFor (dir) {
  const nested = join(dir, RESULTS_SUBDIR)
  if (existsSync(nested)) return nested
  if (basename(dir) === 'test-results' && existsSync(dir)) return dir
  return null
}

/**
 * Summarise every *.tap file under a directory. A missing directory gives zeros.
 * @param {string} dir package directory or results directory
 */
export async function summarizeDir (dir) {
  const total = emptyCounts()
  const resultsDir = resultsDirFor(dir)
  if (!resultsDir) return total
  for (const file of listTapFiles(resultsDir)) {
    let counts
    try {
      counts = await summarizeTap(readFileSync(file, 'utf8'))
    } catch (err) {
      counts = { passed: 0, failed: 1, skipped: 0, problems: [`unreadable: ${err.message}`], skips: [] }
    }
    total.files++
    total.passed += counts.passed
    total.failed += counts.failed
    total.skipped += counts.skipped
    for (const problem of counts.problems) {
      total.problems.push(`${relative(resultsDir, file)}: ${problem}`)
    }
    for (const skip of counts.skips) {
      total.skips.push(`${relative(resultsDir, file)}: ${skip}`)
    }
  }
  return total
}

/**
 * Workspace package directories (from pnpm-workspace.yaml "dir/*" and "dir" entries).
 * @param {string} root repository root
 * @returns {{dir: string, name: string}[]}
 */
export function workspacePackages (root) {
  let patterns = ['packages/*', 'apps/*']
  try {
    const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    const block = yaml.match(/^packages:\s*\n((?:[ \t]+-.*\n?|[ \t]*#.*\n?|[ \t]*\n)*)/m)
    if (block) {
      const found = [...block[1].matchAll(/^[ \t]+-[ \t]*['"]?([^'"\s#]+)['"]?/gm)].map((m) => m[1])
      if (found.length) patterns = found
    }
  } catch {}
  const dirs = []
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) continue
    if (pattern.endsWith('/*')) {
      const base = join(root, pattern.slice(0, -2))
      let entries = []
      try {
        entries = readdirSync(base, { withFileTypes: true })
      } catch {}
      for (const entry of entries) {
        if (entry.isDirectory()) dirs.push(join(base, entry.name))
      }
    } else if (!pattern.includes('*')) {
      dirs.push(join(root, pattern))
    }
  }
  const out = []
  for (const dir of dirs.sort()) {
    const pkgFile = join(dir, 'package.json')
    if (!existsSync(pkgFile)) continue
    let name = relative(root, dir)
    try {
      name = JSON.parse(readFileSync(pkgFile, 'utf8')).name || name
    } catch {}
    out.push({ dir, name })
  }
  return out
}

/**
 * Directories to summarise: REDKIT_RESULTS_DIRS (comma separated) or the workspace packages.
 * @param {string} root
 */
export function targets (root, env = process.env) {
  const override = (env.REDKIT_RESULTS_DIRS || '').split(',').map((s) => s.trim()).filter(Boolean)
  if (override.length) {
    return override.map((dir) => ({ dir: resolvePath(root, dir), name: relative(root, resolvePath(root, dir)) || dir }))
  }
  return workspacePackages(root)
}

export function formatCounts ({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed, ${skipped} skipped`
}

/**
 * Summarise all targets; prints per-package lines through `log`.
 * @returns {Promise<{passed: number, failed: number, skipped: number, files: number}>}
 */
export async function summarize (list, log = console.log) {
  const total = emptyCounts()
  for (const { dir, name } of list) {
    const counts = await summarizeDir(dir)
    if (counts.files === 0) {
      log(`${name}: no test results`)
      continue
    }
    log(`${name}: ${formatCounts(counts)} (${counts.files} file${counts.files === 1 ? '' : 's'})`)
    for (const problem of counts.problems) log(`  ${name}: ${problem}`)
    for (const skip of counts.skips.slice(0, MAX_SKIPS_SHOWN)) log(`  ${name}: ${skip}`)
    if (counts.skips.length > MAX_SKIPS_SHOWN) log(`  ${name}: … ${counts.skips.length - MAX_SKIPS_SHOWN} more skipped`)
    total.files += counts.files
    total.passed += counts.passed
    total.failed += counts.failed
    total.skipped += counts.skipped
  }
  return total
}

if (process.argv[1] && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolvePath(fileURLToPath(new URL('..', import.meta.url)))
  const args = process.argv.slice(2)
  const list = args.length
    ? args.map((dir) => ({ dir: resolvePath(dir), name: dir }))
    : targets(root)
  const total = await summarize(list)
  console.log(formatCounts(total))
  process.exitCode = total.failed > 0 || total.passed === 0 ? 1 : 0
}
