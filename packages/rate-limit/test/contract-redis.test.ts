import { test } from 'tap'
import { startRedis, uniquePrefix, type RedisServer } from '@redkit/testing'
import { contract } from './contract.js'

let server: RedisServer
test('start redis', async () => { server = await startRedis() })
contract({
  name: 'redis',
  core: (prefix = uniquePrefix('rl-redis')) => ({ url: server.url, keyPrefix: prefix, env: {} }),
  admin: () => server.client()
})
test('stop redis', async () => { await server.stop() })
