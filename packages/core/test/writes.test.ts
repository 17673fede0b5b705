import { test } from 'tap'
import type { Redis } from 'ioredis'
import { startRedis, uniquePrefix } from '@redkit/testing'
import { WRITE_BATCH, WRITE_FIRST, WRITE_HOLD } from '../src/writes.js'
import { flushWrites, TurnQueue } from '../src/kit.js'
import { buildApp, spyWrites } from './helpers.js'

/** The pieces one turn of `n` small commands is written in: WRITE_FIRST, twice that… up to WRITE_BATCH, the rest at the end of the turn. */
function expectedPieces (n: number): number[] {
  const out: number[] = []
  let piece = WRITE_FIRST
  let left = n
  while (left > piece) {
    out.push(piece)
    left -= piece
    piece = Math.min(piece * 2, WRITE_BATCH)
  }
  out.push(left)
  return out
}

async function connected (t: { teardown: (fn: () => unknown) => void }): Promise<{ redis: Redis, key: (name: string) => string }> {
  const server = await startRedis()
  t.teardown(server.stop)
  const { app } = await buildApp(t, { url: server.url, keyPrefix: uniquePrefix('writes') })
  const redis = app.redkit.client as Redis
  await redis.ping()
  return { redis, key: (name) => app.redkit.key(name) }
}

const nextTurn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

test('a turn\'s commands leave in growing pieces up to WRITE_BATCH, the rest at the end of the turn', async (t) => {
  const { redis, key } = await connected(t)
  const pieces = spyWrites(redis)
  const n = 4 * WRITE_BATCH + 37
  const replies = await Promise.all(Array.from({ length: n }, async () => await redis.incr(key('g'))))
  t.same(pieces, expectedPieces(n), `${n} commands written as ${pieces.join(', ')}`)
  t.same(replies, Array.from({ length: n }, (_, i) => i + 1), 'replies in order')
  t.ok(pieces.length < n / 8, 'far fewer writes than commands')

  // The next turn starts over with a first piece.
  pieces.length = 0
  await Promise.all(Array.from({ length: WRITE_FIRST + 3 }, async () => await redis.incr(key('g'))))
  t.same(pieces, [WRITE_FIRST, 3])
  await redis.pexpire(key('g'), 60_000)
})

test('the first piece of a turn leaves as soon as the command after it is sent', async (t) => {
  const { redis, key } = await connected(t)
  const pieces = spyWrites(redis)
  const replies = Array.from({ length: WRITE_FIRST }, async () => await redis.incr(key('f')))
  t.same(pieces, [], 'a first piece waits for the end of the turn or the next command')
  replies.push(redis.incr(key('f')))
  t.same(pieces, [WRITE_FIRST], 'written when the next command is sent')
  await Promise.all(replies)
  t.same(pieces, [WRITE_FIRST, 1], 'the rest leaves at the end of the turn')
  await redis.pexpire(key('f'), 60_000)
})

test('a piece is written once it holds WRITE_HOLD characters, whatever its command count', async (t) => {
  const { redis, key } = await connected(t)
  const big = 'x'.repeat(10_000)
  const pieces = spyWrites(redis)
  const perPiece = Math.ceil(WRITE_HOLD / big.length)
  const n = 30
  const replies = await Promise.all(Array.from({ length: n }, async (_, i) => await redis.set(key(`b${i}`), big, 'PX', 60_000)))
  t.ok(replies.every((r) => r === 'OK'))
  t.equal(pieces.reduce((a, b) => a + b, 0), n, 'every command written once')
  t.ok(pieces.every((size) => size <= perPiece), `no piece over ${perPiece} commands of 10k: ${pieces.join(', ')}`)
  t.ok(pieces.filter((size) => size === perPiece).length >= 2, 'full pieces stop at the character cap')
})

test('flushWrites() writes what the turn holds now', async (t) => {
  const { redis, key } = await connected(t)
  const pieces = spyWrites(redis)
  await nextTurn()
  const written = await new Promise<number[][]>((resolve, reject) => {
    setImmediate(() => {
      const replies = [redis.incr(key('w')), redis.incr(key('w')), redis.incr(key('w'))]
      const before = [...pieces]
      flushWrites()
      const after = [...pieces]
      Promise.all(replies).then(() => resolve([before, after]), reject)
    })
  })
  t.same(written[0], [], 'three commands held')
  t.same(written[1], [3], 'written by flushWrites, not a turn later')
  flushWrites()
  t.same(pieces, [3], 'nothing held, nothing written')
  await redis.pexpire(key('w'), 60_000)
})

test('TurnQueue: items of one turn sent together in order from one setImmediate, then written', async (t) => {
  const { redis, key } = await connected(t)
  const pieces = spyWrites(redis)
  const sends: number[][] = []
  const writtenAt: number[] = []
  const queue = new TurnQueue<number>((items) => {
    sends.push(items)
    for (let i = 0; i < items.length; i++) redis.incr(key('q')).catch(() => {})
  }, { written: (items) => { writtenAt.push(pieces.reduce((a, b) => a + b, 0)); t.equal(items.length, sends.at(-1)!.length) } })
  for (let i = 0; i < 5; i++) queue.push(i)
  t.equal(queue.length, 5)
  t.same(sends, [], 'nothing sent before the turn ends')
  await nextTurn()
  await nextTurn()
  t.same(sends, [[0, 1, 2, 3, 4]], 'one send, in push order')
  t.same(writtenAt, [5], 'every command written before `written` is called')
  t.equal(queue.length, 0)
  await nextTurn()
  t.equal(sends.length, 1, 'an empty queue sends nothing')
  t.equal(await redis.get(key('q')), '5')
  await redis.pexpire(key('q'), 60_000)
})

test('TurnQueue: a push reaching max sends at once; flush() sends before a bypassing command', async (t) => {
  const sends: string[][] = []
  const queue = new TurnQueue<string>((items) => { sends.push(items) }, { max: 3 })
  queue.push('a')
  queue.push('b')
  t.same(sends, [])
  queue.push('c')
  t.same(sends, [['a', 'b', 'c']], 'sent by the push that reached max')
  queue.push('d')
  queue.flush()
  t.same(sends, [['a', 'b', 'c'], ['d']], 'flush() sends what is queued now')
  queue.flush()
  t.equal(sends.length, 2, 'flush() of an empty queue sends nothing')
  queue.push('e')
  await nextTurn()
  t.same(sends.at(-1), ['e'], 'the turn\'s one setImmediate sends the rest')
  t.equal(sends.length, 3)
})

test('TurnQueue keeps working under an app\'s fake timers', async (t) => {
  const sends: number[][] = []
  const queue = new TurnQueue<number>((items) => { sends.push(items) })
  const real = globalThis.setImmediate
  globalThis.setImmediate = (() => { throw new Error('fake timers') }) as unknown as typeof setImmediate
  try {
    queue.push(1)
  } finally {
    globalThis.setImmediate = real
  }
  await nextTurn()
  t.same(sends, [[1]])
})
