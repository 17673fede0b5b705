import t from 'tap'
import { get, type IncomingMessage } from 'node:http'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { makeApp, until } from './helpers.js'

const server = await startRedis()
t.teardown(server.stop)

interface SseEvent { id?: string, data: string }

/** A small SSE client on node:http: collects events and comments. */
function connect (url: string, headers: Record<string, string> = {}): Promise<{ events: SseEvent[], comments: string[], res: IncomingMessage, close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = []
      const comments: string[] = []
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = { data: '' }
          let isEvent = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim())
            else if (line.startsWith('id: ')) event.id = line.slice(4)
            else if (line.startsWith('data: ')) { event.data = line.slice(6); isEvent = true }
          }
          if (isEvent) events.push(event)
        }
      })
      resolve({ events, comments, res, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}

t.test('SSE: a browser-style client receives events published on another instance', async (t) => {
  const prefix = uniquePrefix('sse')
  const web = await makeApp({ url: server.url }, prefix, { heartbeatMs: 100 }, false, (app) => {
    app.get('/events', async (request, reply) => { await app.pubsub.sse(request, reply, 'news') })
  })
  const worker = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => { await worker.close(); await web.close() })
  const address = await web.listen({ port: 0, host: '127.0.0.1' })

  const client = await connect(`${address}/events`)
  t.equal(client.res.headers['content-type'], 'text/event-stream; charset=utf-8')
  await until(() => web.pubsub.stats().sseClients === 1 && web.pubsub.stats().channels.length === 1)
  await worker.pubsub.publish('news', { title: 'one' })
  await worker.pubsub.publish('news', { title: 'two' })
  await until(() => client.events.length === 2, 5000, 'two events')
  t.same(client.events.map((e) => JSON.parse(e.data)), [{ title: 'one' }, { title: 'two' }])
  t.equal(client.events[0]!.id, `${worker.redkit.instanceId}:1`)
  await until(() => client.comments.includes('heartbeat'), 5000, 'a heartbeat')

  client.close()
  await until(() => web.pubsub.stats().sseClients === 0, 5000, 'cleanup on disconnect')
  await until(() => web.pubsub.stats().channels.length === 0, 5000, 'unsubscribe on disconnect')
  t.equal(await worker.pubsub.publish('news', { title: 'nobody' }), 0, 'no subscriber left in Redis')
})

t.test('SSE keeps the headers other plugins set (CORS, helmet, hooks) and sends the head at once', async (t) => {
  const prefix = uniquePrefix('sse-headers')
  const origin = 'http://app.example'
  const web = await makeApp({ url: server.url }, prefix, { heartbeatMs: 60_000 }, false, (app) => {
    app.register(cors, { origin, credentials: true, exposedHeaders: ['x-trace'] })
    app.register(helmet)
    app.addHook('onRequest', async (_request, reply) => { reply.header('x-trace', 'abc') })
    app.get('/events', async (request, reply) => { await app.pubsub.sse(request, reply, 'news') })
    app.get('/plain', async () => ({ ok: true }))
  })
  const worker = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => { await worker.close(); await web.close() })
  const address = await web.listen({ port: 0, host: '127.0.0.1' })

  const plain = await fetch(`${address}/plain`, { headers: { origin } })
  t.equal(plain.headers.get('access-control-allow-origin'), origin, 'CORS applies to an ordinary route')

  const asked = Date.now()
  const client = await connect(`${address}/events`, { origin })
  const headMs = Date.now() - asked
  const h = client.res.headers
  t.equal(h['access-control-allow-origin'], origin, 'CORS origin header on the stream')
  t.equal(h['access-control-allow-credentials'], 'true')
  t.equal(h['access-control-expose-headers'], 'x-trace')
  // Every CORS and helmet header of an ordinary route is on the stream too, with the same value.
  const shared = [...plain.headers.keys()].filter((name) => name.startsWith('access-control-') || name === 'vary' ||
    ['content-security-policy', 'strict-transport-security', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy'].includes(name))
  t.ok(shared.length >= 6, `compared ${shared.join(', ')}`)
  for (const name of shared) t.equal(h[name], plain.headers.get(name), name)
  t.equal(h['x-content-type-options'], 'nosniff', 'helmet header on the stream')
  t.ok(h['content-security-policy'], 'helmet CSP on the stream')
  t.equal(h['x-trace'], 'abc', 'a header set in a hook')
  t.equal(h['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(h['cache-control'], 'no-cache, no-transform')
  t.equal(h['content-length'], undefined)
  // The head arrives although no event was sent yet (heartbeats are a minute apart).
  t.ok(headMs < 2000, `head received after ${headMs} ms`)
  t.same(client.events, [])

  await until(() => web.pubsub.stats().channels.length === 1)
  const sent = Date.now()
  await worker.pubsub.publish('news', { title: 'first' })
  await until(() => client.events.length === 1, 2000, 'the first event within 2 s')
  t.comment(`first event after ${Date.now() - sent} ms`)
  t.same(JSON.parse(client.events[0]!.data), { title: 'first' })
  client.close()
})

t.test('SSE: a user-supplied channel part is literal, never a pattern', async (t) => {
  const prefix = uniquePrefix('sse-literal')
  const web = await makeApp({ url: server.url }, prefix, {}, false, (app) => {
    app.get<{ Params: { room: string } }>('/rooms/:room', async (request, reply) => {
      await app.pubsub.sse(request, reply, `room:${request.params.room}`)
    })
  })
  const worker = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => { await worker.close(); await web.close() })
  const address = await web.listen({ port: 0, host: '127.0.0.1' })
  const client = await connect(`${address}/rooms/${encodeURIComponent('*')}`)
  await until(() => web.pubsub.stats().channels.length === 1)
  t.same(web.pubsub.stats().channels, [{ channel: 'room:*', subscribers: 1 }])
  t.same(web.pubsub.stats().patterns, [])
  await worker.pubsub.publish('room:secret', { text: 'not for you' })
  await worker.pubsub.publish('room:*', { text: 'for the room named *' })
  await until(() => client.events.length >= 1, 5000, 'the literal event')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(client.events.map((e) => JSON.parse(e.data)), [{ text: 'for the room named *' }])
  client.close()
})

t.test('SSE on a durable channel resumes from Last-Event-ID', async (t) => {
  const prefix = uniquePrefix('sse-durable')
  const web = await makeApp({ url: server.url }, prefix, {}, false, (app) => {
    app.get('/feed', async (request, reply) => { await app.pubsub.sse(request, reply, 'feed') })
  })
  const worker = await makeApp({ url: server.url }, prefix)
  t.teardown(async () => { await worker.close(); await web.close() })
  web.pubsub.stream('feed')
  const address = await web.listen({ port: 0, host: '127.0.0.1' })
  const feed = worker.pubsub.stream('feed')

  const first = await connect(`${address}/feed`)
  await until(() => web.pubsub.stats().channels.length === 1)
  const ids: string[] = []
  for (let n = 1; n <= 3; n++) ids.push(await feed.publish({ n }))
  await until(() => first.events.length === 3, 5000, 'three live events')
  t.same(first.events.map((e) => e.id), ids, 'event ids are stream ids')
  first.close()
  await until(() => web.pubsub.stats().sseClients === 0)

  // Published while the browser was away.
  ids.push(await feed.publish({ n: 4 }), await feed.publish({ n: 5 }))
  const again = await connect(`${address}/feed`, { 'last-event-id': ids[2]! })
  await until(() => again.events.length === 2, 5000, 'the two missed events')
  await until(() => web.pubsub.stats().channels.length === 1)
  ids.push(await feed.publish({ n: 6 }))
  await until(() => again.events.length === 3, 5000, 'the live event after the backlog')
  t.same(again.events.map((e) => JSON.parse(e.data).n), [4, 5, 6], 'backlog then live, no duplicates')
  t.same(again.events.map((e) => e.id), ids.slice(3))
  again.close()
})

t.test('closing the app ends open SSE responses', async (t) => {
  const prefix = uniquePrefix('sse-close')
  const web = await makeApp({ url: server.url }, prefix, {}, false, (app) => {
    app.get('/events', async (request, reply) => { await app.pubsub.sse(request, reply, 'news') })
  })
  const address = await web.listen({ port: 0, host: '127.0.0.1' })
  const client = await connect(`${address}/events`)
  const ended = new Promise((resolve) => client.res.on('end', resolve))
  await until(() => web.pubsub.stats().sseClients === 1)
  await web.close()
  await ended
  t.pass('response ended')
})
