'use strict'
/*
 * Loaded with --require into a process that runs one of @fastify/rate-limit's
 * own test files, unchanged, from its installed package. It points those
 * tests at redkit:
 * - `require('../index')` (the plugin under test) returns an adapter that
 *   registers @redkit/core and @redkit/rate-limit and then the real plugin
 *   with `store` defaulting to redkit's store; a `redis` client passed by a
 *   test becomes core's client, so the redis tests run on redkit too;
 * - ioredis clients connect to the harness redis-server, never to 6379;
 * - tests named in CONFORMANCE_SKIP are skipped, with the reason given there.
 * CONFORMANCE_MODE: 'mirror' (tests that pass `redis` on Redis, the others
 * on memory, as the plugin's own stores split them), 'redis' (all on Redis),
 * 'memory' (all on memory) or 'builtin' (the plugin's own stores).
 */
const Module = require('node:module')
const path = require('node:path')

const env = process.env
const mode = env.CONFORMANCE_MODE ?? 'redis'
const algorithm = env.CONFORMANCE_ALGORITHM ?? 'fixed'
const port = Number(env.CONFORMANCE_REDIS_PORT)
const peerDir = env.CONFORMANCE_PEER_DIR
const skip = JSON.parse(env.CONFORMANCE_SKIP ?? '{}')
const ownRequire = Module.createRequire(__filename)
const peerIndex = path.join(peerDir, 'index.js')
const peerTests = path.join(peerDir, 'test') + path.sep

const Redis = ownRequire('ioredis')
class HarnessRedis extends Redis {
  constructor (...args) {
    const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : {}
    super({ ...options, host: '127.0.0.1', port })
  }
}

function adapter () {
  const fp = ownRequire('fastify-plugin')
  const real = ownRequire(peerIndex)
  if (mode === 'builtin') return real
  const core = ownRequire('@redkit/core').default
  const redkitRateLimit = ownRequire('@redkit/rate-limit').default
  let n = 0
  async function plugin (app, opts) {
    const { redis, nameSpace, ...settings } = opts
    if (!app.hasDecorator('redkit')) {
      const prefix = `conformance:${process.pid}:${n++}:`
      const memory = mode === 'memory' || (mode === 'mirror' && redis === undefined)
      await app.register(core, memory
        ? { mode: 'memory', env: {} }
        : redis !== undefined
          ? { client: redis, closeClient: false, keyPrefix: prefix, env: {} }
          : { url: `redis://127.0.0.1:${port}`, keyPrefix: prefix, env: {} })
    }
    if (!app.hasDecorator('limiter')) await app.register(redkitRateLimit)
    const store = settings.store ?? app.limiter.store({ algorithm, ...(nameSpace === undefined ? {} : { nameSpace }) })
    await app.register(real, { ...settings, store })
  }
  const wrapped = fp(plugin, { fastify: '5.x', name: '@fastify/rate-limit-on-redkit' })
  return Object.assign(wrapped, { default: wrapped, fastifyRateLimit: wrapped, normalizeIP: real.normalizeIP })
}

/** A failed peer test may leave mock timers on; reset them so the next test starts clean. */
function resettingTimers (nodeTest, body) {
  if (typeof body !== 'function' || body.length > 1) return body
  return async function (t) {
    try {
      return await body.call(this, t)
    } finally {
      try { nodeTest.mock.timers.reset() } catch {}
    }
  }
}

function skipping (nodeTest) {
  const wrap = (fn) => function (name, ...rest) {
    const reason = typeof name === 'string' ? skip[name] : undefined
    if (reason === undefined) return fn.call(this, name, ...rest.map((arg) => resettingTimers(nodeTest, arg)))
    const fnArg = rest.find((a) => typeof a === 'function')
    return fn.call(this, name, { skip: reason }, fnArg ?? (() => {}))
  }
  const test = wrap(nodeTest.test)
  return new Proxy(nodeTest, {
    get (target, prop) {
      if (prop === 'test' || prop === 'it') return test
      if (prop === 'describe' || prop === 'suite') return target[prop]
      return target[prop]
    },
    apply (target, self, args) { return test.apply(self, args) }
  })
}

let cachedAdapter
let cachedNodeTest
const load = Module._load
Module._load = function (request, parent, isMain) {
  const from = parent?.filename ?? ''
  if (from.startsWith(peerTests)) {
    if (request === 'ioredis') return HarnessRedis
    if (request === 'fastify') return ownRequire('fastify')
    if (request === 'node:test') {
      cachedNodeTest ??= skipping(load.call(this, request, parent, isMain))
      return cachedNodeTest
    }
    if (request.startsWith('.') && Module._resolveFilename(request, parent, isMain) === peerIndex) {
      cachedAdapter ??= adapter()
      return cachedAdapter
    }
  }
  return load.call(this, request, parent, isMain)
}
