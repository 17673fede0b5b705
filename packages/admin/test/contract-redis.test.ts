import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { runContract } from './contract.js'

const PASSWORD = 'admin-test-Pa55word-x9'
// A password makes the harness start its own server, so INFO can be checked for it.
const server = await startRedis({ password: PASSWORD })
t.teardown(server.stop)
let client: Redis | undefined
const admin = (): Redis => {
  client ??= server.client()
  return client
}

runContract({
  name: 'redis',
  core: () => ({ url: server.url, keyPrefix: uniquePrefix('admin'), env: {} }),
  client: admin,
  masters: () => [admin()],
  password: PASSWORD
})
