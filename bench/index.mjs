// Runs every package's benchmark in turn and prints one table of the ratios
// each one reports against its peers. A package bench reports a ratio with a
// line "ratio <what>: <number>".
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const only = process.argv.slice(2)
const packages = readdirSync(join(root, 'packages'))
  .filter((name) => existsSync(join(root, 'packages', name, 'bench', 'index.mjs')))
  .filter((name) => only.length === 0 || only.includes(name))

function run (name) {
  return new Promise((resolve) => {
    const cwd = join(root, 'packages', name)
    const child = spawn(process.execPath, ['bench/index.mjs'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      process.stdout.write(chunk)
    })
    child.on('close', (code) => resolve({ code, out }))
  })
}

/**
 * Ratio lines as the package benches print them: "ratio <what>: 1.23x",
 * "throughput ratio <what>: 0.80x", "<what> = 1.20x", or several named
 * values on one line: "latency ratio <what>: p50 1.00x, p99 0.69x".
 */
function ratiosIn (out) {
  const found = []
  for (const line of out.split('\n')) {
    const labelled = /^\s*(?:(\w+) )?ratio (.+?):\s*(.*)$/.exec(line)
    const equals = /^\s*(\S.*?)\s+=\s+([\d.]+)x\b/.exec(line)
    if (labelled !== null) {
      const what = `${labelled[1] === undefined ? '' : `${labelled[1]} `}${labelled[2]}`
      const single = /^([\d.]+)x?\b/.exec(labelled[3])
      if (single !== null) found.push([what, single[1]])
      else for (const [, name, value] of labelled[3].matchAll(/(\w+) ([\d.]+)x\b/g)) found.push([`${what} ${name}`, value])
    } else if (equals !== null) found.push([equals[1], equals[2]])
  }
  return found
}

// The machine may be shared: its load says how far to trust req/s (CPU per request is steadier).
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ')
const loadAtStart = load()
const rows = []
let failed = 0
for (const name of packages) {
  console.log(`\n==== @redkit/${name} ====`)
  const { code, out } = await run(name)
  if (code !== 0) {
    failed++
    rows.push([name, 'benchmark failed', `exit ${code}`])
    continue
  }
  rows.push(...ratiosIn(out).map(([what, value]) => [name, what, value]))
}

const width = (i) => Math.max(...rows.map((r) => r[i].length), 10)
console.log('\n==== ratios against peers (higher is better unless the label says otherwise) ====')
console.log(`load average (1, 5, 15 min) at start: ${loadAtStart}, at end: ${load()}`)
for (const [pkg, what, value] of rows) {
  console.log(`${pkg.padEnd(width(0))}  ${what.padEnd(width(1))}  ${value}`)
}
process.exitCode = failed > 0 ? 1 : 0
