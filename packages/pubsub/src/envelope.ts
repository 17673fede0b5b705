import type { PubsubMessage } from './types.js'
import { PubsubInvalidChannelError, PubsubMessageTooLargeError, PubsubNotSerializableError } from './errors.js'

/**
 * What travels on the wire: {"p":publisher,"s":seq,"t":ts,"d":data}, plus
 * "i" (the stream entry id) on live copies of stream entries. Short names
 * keep small messages small; the message id is `<p>:<s>`, so it is not sent.
 */
export interface Envelope {
  /** Message id, unique across instances: `<publisher>:<seq>`. */
  id: string
  /** Instance id of the publisher. */
  pub: string
  /** Per-publisher, per-channel sequence number, from 1. */
  seq: number
  /** Publisher clock, ms since the epoch. */
  ts: number
  data: unknown
  /** Stream entry id, on live copies of durable messages. */
  sid?: string
}

interface Wire { p?: unknown, s?: unknown, t?: unknown, d?: unknown, i?: unknown }

export function checkChannel (channel: unknown, maxLength: number, what = 'channel'): string {
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new PubsubInvalidChannelError(`${what} must be a non-empty string, got ${typeof channel === 'string' ? '""' : typeof channel}`)
  }
  if (channel.length > maxLength) {
    throw new PubsubInvalidChannelError(`${what} is ${channel.length} characters, more than maxChannelLength (${maxLength})`)
  }
  return channel
}

function serialise (channel: string, data: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (err) {
    throw new PubsubNotSerializableError(channel, { cause: err })
  }
  // undefined, functions and symbols serialise to nothing.
  if (json === undefined) throw new PubsubNotSerializableError(channel)
  return json
}

/** Builds the envelope text by hand: cheaper than stringifying a wrapper object. */
export function encode (channel: string, publisher: string, seq: number, data: unknown, maxSize: number): string {
  const json = serialise(channel, data)
  const text = `{"p":"${publisher}","s":${seq},"t":${Date.now()},"d":${json}}`
  // Characters are a lower bound of bytes; only count bytes when it could matter.
  if (text.length * 3 > maxSize) {
    const bytes = Buffer.byteLength(text)
    if (bytes > maxSize) throw new PubsubMessageTooLargeError(channel, bytes, maxSize)
  }
  return text
}

/** Decodes straight into the message handed to handlers: one object per message. */
export function decodeMessage (text: string, channel: string): PubsubMessage | undefined {
  let w: Wire | null
  try {
    w = JSON.parse(text) as Wire | null
  } catch {
    return undefined
  }
  if (w === null || typeof w !== 'object' || typeof w.p !== 'string' || typeof w.s !== 'number') return undefined
  const message: PubsubMessage = { channel, data: w.d, id: `${w.p}:${w.s}`, publisher: w.p, seq: w.s, ts: typeof w.t === 'number' ? w.t : 0 }
  if (typeof w.i === 'string') message.streamId = w.i
  return message
}
