// Packs every public workspace package with `pnpm pack`, which writes the
// manifest as npm will publish it (workspace: and catalog: replaced by ranges).
// Used by scripts/check-packages.mjs and the consumer check in packages/consumer-check.

import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { workspacePackages } from './tap-summary.mjs'

const run = promisify(execFile)
export const ROOT = resolvePath(fileURLToPath(new URL('..', import.meta.url)))

/** @returns {{ name: string, dir: string }[]} the workspace packages that are published */
export function publicPackages (root = ROOT) {
  return workspacePackages(root).filter(({ dir }) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    return manifest.private !== true
  })
}

/** The pnpm that runs us (npm_execpath under `pnpm run`), else the one on PATH. */
export function pnpmCommand () {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm(\.c?js)?$/.test(execPath) && existsSync(execPath)) {
    return { file: process.execPath, prefix: [execPath] }
  }
  return { file: 'pnpm', prefix: [] }
}

/**
 * Pack each public package into `dest`.
 * @returns {Promise<{ name: string, dir: string, tarball: string, files: string[] }[]>}
 */
export async function packAll (dest, root = ROOT) {
  mkdirSync(dest, { recursive: true })
  const pnpm = pnpmCommand()
  return await Promise.all(publicPackages(root).map(async ({ name, dir }) => {
    const { stdout } = await run(pnpm.file, [...pnpm.prefix, 'pack', '--json', '--pack-destination', dest], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024
    })
    // pnpm prints lifecycle output before the JSON when a package has pack scripts.
    const report = JSON.parse(stdout.slice(stdout.indexOf('{')))
    return { name, dir, tarball: report.filename, files: report.files.map((f) => f.path) }
  }))
}
