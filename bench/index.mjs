// Runs every package's benchmark in turn and prints one table of the ratios
// each one reports against its peers. A package bench reports a ratio with a
// line "ratio <what>: <number>".
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
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
  for (const match of out.matchAll(/^ratio (.+?):\s*([\d.]+)/gm)) rows.push([name, match[1], match[2]])
}

const width = (i) => Math.max(...rows.map((r) => r[i].length), 10)
console.log('\n==== ratios against peers (higher is better unless the label says otherwise) ====')
for (const [pkg, what, value] of rows) {
  console.log(`${pkg.padEnd(width(0))}  ${what.padEnd(width(1))}  ${value}`)
}
process.exitCode = failed > 0 ? 1 : 0
