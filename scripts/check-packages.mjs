#!/usr/bin/env node
// `pnpm check:packages`: packs every public package as it will be published and
// lints the tarballs with publint (--strict) and @arethetypeswrong/cli.
//
// attw rule ignored: cjs-resolves-to-esm. The packages are ESM only and declare
// engines "^20.19.0 || >=22.12.0", the Node versions where require() of an ES
// module works without a flag; TypeScript's node16 CJS resolution still reports
// such a require() as resolving to ESM. The consumer check requires every package
// from a CJS file to show that it works.

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { packAll, ROOT } from './pack-packages.mjs'

const run = promisify(execFile)
const bin = (name) => join(ROOT, 'node_modules', '.bin', name)
const ATTW_IGNORED = ['cjs-resolves-to-esm']

async function check (label, file, args) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
    return { label, ok: true, output: (stdout + stderr).trim() }
  } catch (err) {
    return { label, ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || err.message }
  }
}

const dest = mkdtempSync(join(tmpdir(), 'redkit-check-packages-'))
let failed = 0
try {
  const packed = await packAll(dest)
  for (const { name, tarball, files } of packed) {
    const results = await Promise.all([
      check('publint --strict', bin('publint'), ['run', '--strict', tarball]),
      check(`attw --ignore-rules ${ATTW_IGNORED.join(' ')}`, bin('attw'), [tarball, '--no-color', '--format', 'table-flipped', '--ignore-rules', ...ATTW_IGNORED])
    ])
    const license = files.includes('LICENSE')
    if (!license) failed++
    console.log(`\n## ${name} (${files.length} files${license ? ', LICENSE' : ', LICENSE MISSING'})`)
    for (const { label, ok, output } of results) {
      if (!ok) failed++
      console.log(`- ${label}: ${ok ? 'ok' : 'FAILED'}`)
      // publint's success output is its banner; attw's table is worth keeping.
      const shown = ok && label.startsWith('publint') ? '' : output
      if (shown) console.log(shown.replace(/^/gm, '    '))
    }
  }
  console.log(`\ncheck:packages: ${packed.length} packages, ${failed === 0 ? 'all clean' : `${failed} problem(s)`}`)
} finally {
  rmSync(dest, { recursive: true, force: true })
}
process.exitCode = failed === 0 ? 0 : 1
