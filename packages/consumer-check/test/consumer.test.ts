// Installs the packed tarballs of every public package into a fresh project, as
// a user would, then: type-checks a small app and the READMEs' examples with
// skipLibCheck off under each module resolution, runs the app in memory mode,
// and require()s every package from a CommonJS file.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { packAll, pnpmCommand, ROOT } from '../../../scripts/pack-packages.mjs'
import { snippetFiles } from './readme.js'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const TSC = require.resolve('typescript/bin/tsc')
const ENGINES = '^20.19.0 || >=22.12.0'

const MODES: Record<string, { module: string, moduleResolution: string }> = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  preserve: { module: 'preserve', moduleResolution: 'bundler' }
}
/** The mode whose output is run. */
const EMIT = 'nodenext'

interface Run { code: number, stdout: string, stderr: string, ms: number }
function run (file: string, args: string[], cwd: string): Promise<Run> {
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

const versionOf = (name: string): string => (require(`${name}/package.json`) as { version: string }).version

const work = mkdtempSync(join(tmpdir(), 'redkit-consumer-'))
if (process.env.REDKIT_KEEP_CONSUMER !== '1') t.teardown(() => rmSync(work, { recursive: true, force: true }))
else t.comment(`consumer project kept in ${work}`)
const project = join(work, 'app')
const nodeModules = join(project, 'node_modules')

let packed: Awaited<ReturnType<typeof packAll>> = []

t.before(async () => {
  const started = Date.now()
  packed = await packAll(join(work, 'tarballs'))
  cpSync(join(here, '..', 'fixture'), project, { recursive: true })
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }
  writeFileSync(join(project, 'package.json'), JSON.stringify({
    name: 'redkit-consumer',
    private: true,
    type: 'module',
    // The workspace's pnpm, so corepack runs the version it already has.
    packageManager: root.packageManager,
    dependencies: {
      ...Object.fromEntries(packed.map(({ name, tarball }) => [name, `file:${tarball}`])),
      // The workspace's versions, so the install is served from the local store.
      fastify: versionOf('fastify'),
      ioredis: versionOf('ioredis')
    },
    devDependencies: { '@types/node': versionOf('@types/node') }
  }, null, 2))
  const pnpm = pnpmCommand()
  const install = await run(pnpm.file, [...pnpm.prefix, 'install', '--ignore-workspace', '--prefer-offline', '--no-frozen-lockfile',
    '--config.strict-peer-dependencies=false', '--reporter=append-only'], project)
  if (install.code !== 0) throw new Error(`pnpm install of the tarballs failed:\n${install.stdout}${install.stderr}`)
  t.comment(`packed ${packed.length} packages and installed them in a new project in ${Date.now() - started} ms`)
})

t.test('packed manifests', async (t) => {
  for (const { name, files } of packed) {
    const manifest = JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>
    t.ok(files.includes('LICENSE'), `${name}: LICENSE in the tarball`)
    t.ok(files.includes('dist/index.d.ts') && files.includes('src/index.ts'), `${name}: types, and the sources their maps point at`)
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      t.match(range, /^\^\d/, `${name}: dependency ${dep} is a caret range (${range})`)
    }
    t.notOk(manifest.dependencies?.['@redkit/core'], `${name}: @redkit/core is not a dependency`)
    if (name !== '@redkit/core') t.match(manifest.peerDependencies?.['@redkit/core'], /^\^\d/, `${name}: @redkit/core is a peer dependency`)
    t.equal(manifest.engines?.node, ENGINES, `${name}: engines`)
    for (const field of ['repository', 'homepage', 'bugs', 'license']) t.ok(manifest[field], `${name}: ${field}`)
  }
})

t.test('type checks of the app and the README examples, per module resolution', async (t) => {
  mkdirSync(join(project, 'src'), { recursive: true })
  for (const [file, text] of snippetFiles(nodeModules)) writeFileSync(join(project, 'src', file), text)
  for (const [mode, options] of Object.entries(MODES)) {
    writeFileSync(join(project, `tsconfig.${mode}.json`), JSON.stringify({
      compilerOptions: {
        ...options,
        target: 'ES2022',
        lib: ['ES2023'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        ...(mode === EMIT ? { outDir: 'dist' } : { noEmit: true })
      },
      include: ['src']
    }, null, 2))
  }
  const compiled = await Promise.all(Object.keys(MODES).map(async (mode) =>
    [mode, await run(process.execPath, [TSC, '-p', `tsconfig.${mode}.json`], project)] as const))
  for (const [mode, result] of compiled) {
    const errors = (result.stdout + result.stderr).split('\n').filter((line) => /error TS\d+:/.test(line))
    const { module, moduleResolution } = MODES[mode]!
    t.comment(`${mode} (module ${module}, moduleResolution ${moduleResolution}, skipLibCheck false): ${errors.length} type errors, ${result.ms} ms`)
    t.same(errors, [], `${mode}: 0 type errors`)
    t.equal(result.code, 0, `${mode}: tsc exits 0`)
  }
})

t.test('the app runs in memory mode, one request per plugin', async (t) => {
  const result = await run(process.execPath, [join('dist', 'app.js')], project)
  t.equal(result.code, 0, 'exits 0', { stderr: result.stderr })
  if (result.code !== 0) return
  const r = JSON.parse(result.stdout.trim().split('\n').at(-1)!)
  const body = (res: { body: string }) => JSON.parse(res.body)
  t.match(body(r.core), { mode: 'memory', client: 'none' }, 'core: memory mode, no client')
  t.equal(r.session.status, 200, 'session: route answers')
  t.match(String(r.session.headers['set-cookie']), /sessionId=/, 'session: cookie set')
  t.same(body(r.bridge), { redeemed: { user: 'u1' } }, 'session: bridge token redeemed')
  t.same([r.lock.status, body(r.lock).held], [200, true], 'lock: route lock held')
  t.match(body(r.withLock), { aborted: false, token: /^\d+$/ }, 'lock: withLock')
  t.same(body(r.pubsub), { received: { n: 1 } }, 'pubsub: message delivered')
  t.same(r.rateLimit.map((res: { status: number }) => res.status), [200, 429], 'rate-limit: route limited to 1')
  t.same(body(r.limiter), { allowed: true, remaining: 4 }, 'rate-limit: direct check')
  t.same(r.cache.map((res: { headers: Record<string, string> }) => res.headers['x-cache']), ['MISS', 'HIT', undefined, 'MISS'], 'cache: route cached, then invalidated by tag')
  t.same(r.cache.map(body), [{ loads: 1 }, { loads: 1 }, { invalidated: true }, { loads: 2 }], 'cache: handler ran once per fill')
  t.same(body(r.wrapped), { value: 42 }, 'cache: wrap')
  t.equal(r.adminHealth.status, 200, 'admin: health is public')
  t.equal(r.adminSessions.status, 200, 'admin: sessions with the token')
  t.equal(r.adminRefused.status, 401, 'admin: refused without it')
})

t.test('require() from CommonJS', async (t) => {
  const result = await run(process.execPath, ['check.cjs'], project)
  t.equal(result.code, 0, `node ${process.version} requires every package`, { stderr: result.stderr })
  if (result.code === 0) t.same(Object.values(JSON.parse(result.stdout)), packed.map(() => 'function'), 'each default export is the plugin')
})
