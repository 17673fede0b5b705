import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { compareIds, type StreamEntry } from './backend.js'
import { STREAM_ID } from './options.js'
import { toMessage } from './stream.js'
import type { PubsubMessage, Unsubscribe } from './types.js'

export interface SseContext {
  request: FastifyRequest
  reply: FastifyReply
  channel: string
  durable: boolean
  heartbeatMs: number
  maxBuffer: number
  subscribe: (handler: (message: PubsubMessage) => void) => Promise<Unsubscribe>
  range: (after: string, count: number) => Promise<StreamEntry[]>
  clients: Set<() => void>
  log: FastifyBaseLogger
}

const PAGE = 200

function lastEventId (request: FastifyRequest): string | undefined {
  const raw = request.headers['last-event-id']
  const value = Array.isArray(raw) ? raw[0] : raw
  return value !== undefined && STREAM_ID.test(value) && value !== '$' ? value : undefined
}

const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no'
}

/** A body of unknown length: a length or encoding another plugin set for an ordinary reply would be wrong here. */
const DROPPED = new Set(['content-length', 'transfer-encoding', 'content-encoding'])

/**
 * A hijacked reply skips Fastify's own head writing, so the headers other
 * plugins put on the reply (CORS in onRequest, for one) would be lost: they
 * are copied onto the raw response, then the SSE ones take precedence.
 */
function writeHead (reply: FastifyReply): void {
  const headers: Record<string, number | string | string[]> = {}
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined && !DROPPED.has(name.toLowerCase())) headers[name.toLowerCase()] = value
  }
  const res = reply.raw
  for (const name of DROPPED) res.removeHeader(name)
  reply.hijack()
  res.writeHead(200, { ...headers, ...SSE_HEADERS })
  // The head goes out now, not with the first event: a client waits for it.
  res.flushHeaders()
}

/**
 * Streams a channel as Server-Sent Events. On a durable channel each event id
 * is the stream entry id, so a reconnecting browser (Last-Event-ID) first gets
 * what it missed from the stream, then live messages, without duplicates.
 */
export async function openSse (ctx: SseContext): Promise<void> {
  const { request, reply, channel, durable, log } = ctx
  const res = reply.raw
  writeHead(reply)
  res.write(': connected\n\n')

  let ended = false
  let off: Unsubscribe | undefined
  const timers: { heartbeat?: NodeJS.Timeout } = {}
  const end = (): void => {
    if (ended) return
    ended = true
    clearInterval(timers.heartbeat)
    ctx.clients.delete(end)
    off?.().catch(() => {})
    if (!res.writableEnded) res.end()
  }
  ctx.clients.add(end)
  res.on('close', end)

  const write = (text: string): void => {
    if (ended) return
    res.write(text)
    if (res.writableLength > ctx.maxBuffer) {
      log.warn({ channel, buffered: res.writableLength }, 'redkit pubsub: SSE client too slow; disconnecting it')
      end()
    }
  }

  const resumeFrom = durable ? lastEventId(request) : undefined
  let lastSent = resumeFrom
  const send = (message: PubsubMessage): void => {
    let idLine = ''
    if (durable) {
      if (message.streamId !== undefined) {
        if (lastSent !== undefined && compareIds(message.streamId, lastSent) <= 0) return
        lastSent = message.streamId
        idLine = `id: ${message.streamId}\n`
      }
    } else {
      idLine = `id: ${message.id}\n`
    }
    write(`${idLine}data: ${JSON.stringify(message.data)}\n\n`)
  }

  // Live messages are held back while the backlog is replayed, so order holds.
  let held: PubsubMessage[] | undefined = resumeFrom !== undefined ? [] : undefined
  try {
    off = await ctx.subscribe((message) => {
      if (held !== undefined) held.push(message)
      else send(message)
    })
    if (ended) {
      end()
      return
    }
    if (resumeFrom !== undefined) {
      let after = resumeFrom
      for (;;) {
        const page = await ctx.range(after, PAGE)
        for (const entry of page) {
          const message = toMessage(channel, entry)
          if (message !== undefined) send(message)
        }
        if (page.length < PAGE || ended) break
        after = page.at(-1)!.id
      }
      const pending = held ?? []
      held = undefined
      for (const message of pending) send(message)
    }
  } catch (err) {
    log.error({ err, channel }, 'redkit pubsub: SSE stream could not start')
    end()
    return
  }
  timers.heartbeat = setInterval(() => write(': heartbeat\n\n'), ctx.heartbeatMs)
  timers.heartbeat.unref()
}
