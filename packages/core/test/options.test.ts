import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import Fastify from 'fastify'
import { resolveConfig, redkit } from '../src/index.js'

const code = 'FST_REDKIT_INVALID_OPTION'

test('no configuration means memory mode', async (t) => {
  const config = resolveConfig({ env: {} })
  t.same(config.target, { kind: 'memory', reason: 'unconfigured' })
  t.equal(config.keyPrefix, 'redkit:')
  t.equal(config.fallback, 'memory')
  t.equal(resolveConfig({ env: { NODE_ENV: 'production' } }).fallback, 'fail')
})

test('URL forms', async (t) => {
  const plain = resolveConfig({ url: 'redis://example.com', env: {} })
  t.match(plain.target, { kind: 'standalone', host: 'example.com', port: 6379 })
  t.equal(plain.db, 0)
  t.equal(plain.tls, undefined)

  const full = resolveConfig({ url: 'redis://app%40x:p%3Ass@10.0.0.1:6380/3', env: {} })
  t.match(full.target, { kind: 'standalone', host: '10.0.0.1', port: 6380, description: 'redis://app@x@10.0.0.1:6380/3' })
  t.equal(full.username, 'app@x')
  t.equal(full.password, 'p:ss')
  t.equal(full.db, 3)

  const passOnly = resolveConfig({ url: 'redis://:secret@h:1', env: {} })
  t.equal(passOnly.username, undefined)
  t.equal(passOnly.password, 'secret')
  t.notMatch(JSON.stringify(passOnly.target), /secret/, 'description has no password')

  const tls = resolveConfig({ url: 'rediss://h', env: {} })
  t.same(tls.tls, { rejectUnauthorized: true }, 'rediss verifies certificates by default')

  const v6 = resolveConfig({ url: 'redis://[::1]:7000', env: {} })
  t.match(v6.target, { host: '::1', port: 7000 })
})

test('environment precedence', async (t) => {
  const env = {
    REDIS_URL: 'redis://from-url:1111',
    REDIS_HOST: 'from-host',
    REDIS_PORT: '2222',
    REDIS_SENTINELS: 's1:26379',
    REDIS_SENTINEL_NAME: 'm',
    REDIS_CLUSTER_NODES: 'c1:7000'
  }
  t.match(resolveConfig({ host: 'from-options', port: 3333, env }).target, { host: 'from-options', port: 3333 }, 'options win')
  t.match(resolveConfig({ env }).target, { host: 'from-url', port: 1111 }, 'then REDIS_URL')
  const { REDIS_URL: _url, ...noUrl } = env
  t.match(resolveConfig({ env: noUrl }).target, { host: 'from-host', port: 2222 }, 'then REDIS_HOST/PORT')
  const { REDIS_HOST: _h, REDIS_PORT: _p, ...sentinels } = noUrl
  t.match(resolveConfig({ env: sentinels }).target, { kind: 'sentinel', name: 'm', sentinels: [{ host: 's1', port: 26379 }] }, 'then sentinels')
  const { REDIS_SENTINELS: _s, ...cluster } = sentinels
  t.match(resolveConfig({ env: cluster }).target, { kind: 'cluster', nodes: [{ host: 'c1', port: 7000 }] }, 'then cluster nodes')
  t.match(resolveConfig({ mode: 'memory', env }).target, { kind: 'memory', reason: 'forced' })
})

test('env credentials, db, timeouts and prefix', async (t) => {
  const config = resolveConfig({
    env: {
      REDIS_HOST: 'h',
      REDIS_USERNAME: 'u',
      REDIS_PASSWORD: 'pw',
      REDIS_DB: '2',
      REDIS_CONNECT_TIMEOUT: '1500',
      REDIS_COMMAND_TIMEOUT: '250',
      REDIS_MAX_RETRIES: '0',
      REDIS_KEY_PREFIX: 'myapp:'
    }
  })
  t.match(config, { username: 'u', password: 'pw', db: 2, connectTimeout: 1500, commandTimeout: 250, maxRetries: 0, keyPrefix: 'myapp:' })
  const url = resolveConfig({ env: { REDIS_URL: 'redis://h', REDIS_PASSWORD: 'pw' } })
  t.equal(url.password, 'pw', 'REDIS_PASSWORD applies to a URL without one')
  const opts = resolveConfig({ url: 'redis://h', env: { REDIS_PASSWORD: 'pw', REDIS_DB: '4' } })
  t.equal(opts.password, undefined, 'env credentials do not leak into an options target')
  t.equal(opts.db, 0)
})

test('TLS files and verification', async (t) => {
  const dir = tmpdir()
  const ca = join(dir, `redkit-ca-${process.pid}.pem`)
  writeFileSync(ca, 'CA')
  t.teardown(() => {})
  const config = resolveConfig({ env: { REDIS_HOST: 'h', REDIS_TLS: 'true', REDIS_TLS_CA_PATH: ca } })
  t.same(config.tls, { rejectUnauthorized: true, ca: 'CA' })
  const off = resolveConfig({ env: { REDIS_URL: 'rediss://h', REDIS_TLS_REJECT_UNAUTHORIZED: 'false' } })
  t.equal(off.tls?.rejectUnauthorized, false)
  t.throws(() => resolveConfig({ env: { REDIS_URL: 'rediss://h', REDIS_TLS_CA_PATH: '/nope/ca.pem' } }),
    { code, message: /REDIS_TLS_CA_PATH points to "\/nope\/ca.pem"/ })
  t.throws(() => resolveConfig({ env: { REDIS_URL: 'rediss://h', REDIS_TLS_CERT_PATH: ca } }), { code, message: /both a cert and a key/ })
})

test('invalid values fail with a coded error naming the setting', async (t) => {
  const cases: Array<[Parameters<typeof resolveConfig>[0], RegExp]> = [
    [{ env: { REDIS_URL: 'not a url' } }, /REDIS_URL is not a valid URL/],
    [{ env: { REDIS_URL: 'http://h' } }, /REDIS_URL must start with redis:\/\//],
    [{ env: { REDIS_URL: 'redis://h:99999' } }, /REDIS_URL/],
    [{ env: { REDIS_URL: 'redis://h/abc' } }, /REDIS_URL database/],
    [{ env: { REDIS_HOST: 'h', REDIS_PORT: '0' } }, /REDIS_PORT must be an integer from 1 to 65535, got "0"/],
    [{ env: { REDIS_HOST: 'h', REDIS_PORT: 'abc' } }, /REDIS_PORT/],
    [{ env: { REDIS_HOST: 'h', REDIS_COMMAND_TIMEOUT: 'soon' } }, /REDIS_COMMAND_TIMEOUT must be an integer/],
    [{ env: { REDIS_HOST: 'h', REDIS_CONNECT_TIMEOUT: '-5' } }, /REDIS_CONNECT_TIMEOUT/],
    [{ env: { REDIS_HOST: 'h', REDIS_MAX_RETRIES: '1.5' } }, /REDIS_MAX_RETRIES/],
    [{ env: { REDIS_HOST: 'h', REDIS_TLS: 'maybe' } }, /REDIS_TLS must be true or false/],
    [{ env: { REDIS_HOST: 'h', REDIS_DB: 'x' } }, /REDIS_DB/],
    [{ env: { REDIS_SENTINELS: 'a:1' } }, /REDIS_SENTINEL_NAME is required/],
    [{ env: { REDIS_SENTINELS: 'nope', REDIS_SENTINEL_NAME: 'm' } }, /REDIS_SENTINELS must be a list of host:port/],
    [{ env: { REDIS_CLUSTER_NODES: 'a:70000' } }, /REDIS_CLUSTER_NODES\[0\]\.port/],
    [{ env: { REDIS_CLUSTER_NODES: 'a:7000', REDIS_DB: '1' } }, /Cluster only has database 0/],
    [{ env: { REDIS_KEY_PREFIX: 'a{b}' } }, /REDIS_KEY_PREFIX must not contain braces/],
    [{ port: 70000, env: {} }, /^Invalid redkit option: port must be/],
    [{ commandTimeout: 0, env: {} }, /commandTimeout/],
    [{ fallback: 'panic' as 'fail', env: {} }, /fallback must be 'memory' or 'fail'/],
    [{ keyPrefix: 'a*', env: {} }, /keyPrefix must not contain/],
    [{ sentinels: [{ host: 'a', port: 1 }], env: {} }, /sentinelName is required/],
    [{ client: {} as never, env: {} }, /client must be an ioredis/],
    [{ colour: 'red', env: {} } as never, /unknown option "colour"/]
  ]
  for (const [opts, message] of cases) {
    t.throws(() => resolveConfig(opts), { code, message }, message.source)
  }
})

test('invalid URLs never echo the password', async (t) => {
  for (const url of ['redis://u:hunter2@h:99999', 'http://u:hunter2@h', 'redis://u:hunter2@h/x']) {
    try {
      resolveConfig({ env: { REDIS_URL: url } })
      t.fail('should throw')
    } catch (err) {
      t.notMatch((err as Error).message, /hunter2/)
    }
  }
})

test('register fails with the coded error', async (t) => {
  const app = Fastify({ logger: false })
  app.register(redkit, { env: { REDIS_PORT: '123456' } })
  await t.rejects(async () => { await app.ready() }, { code, message: /REDIS_PORT/ })
})
