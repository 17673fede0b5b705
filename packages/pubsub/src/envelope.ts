import type { PubsubMessage } from './types.js'
import { PubsubInvalidChannelError, PubsubMessageTooLargeError, PubsubNotSerializableError } from './errors.js'

/**
 * What travels on the wire: {"p":publisher,"s":seq,"t":ts,"d":data}, plus
 * "i" (the stream entry id) on live copies of stream entries. Short names
 * keep small messages small; the message id is `<p>:<s>`, so it is not sent.
 *
 * Messages one publisher sends to one channel within one turn of the event
 * loop travel together as a batch, {"p":publisher,"b":[[seq,ts,data],...]}:
 * Redis and each subscriber then pay for one PUBLISH and one push instead of
 * one per message. A turn's lone message keeps the classic form, which other
 * clients of the channel can read without knowing about batches.
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

interface Wire { p?: unknown, s?: unknown, t?: unknown, d?: unknown, i?: unknown, b?: unknown }

/** A message checked and serialised by publish(), waiting for the end of the turn. */
export interface Outgoing {
  seq: number
  ts: number
  json: string
}

/**
 * Characters a classic envelope adds around the data, at most: the keys and
 * punctuation (23), a safe-integer seq (16) and a ms timestamp (13).
 */
const ENVELOPE_CHARS = 60

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
  return classic(publisher, prepare(channel, publisher, seq, data, maxSize))
}

/**
 * Serialises and size-checks a message, against the bytes of its classic
 * envelope, without building it yet: a batch builds its own text.
 */
export function prepare (channel: string, publisher: string, seq: number, data: unknown, maxSize: number): Outgoing {
  const message: Outgoing = { seq, ts: Date.now(), json: serialise(channel, data) }
  if ((message.json.length + publisher.length + ENVELOPE_CHARS) * 3 > maxSize) {
    const bytes = Buffer.byteLength(classic(publisher, message))
    if (bytes > maxSize) throw new PubsubMessageTooLargeError(channel, bytes, maxSize)
  }
  return message
}

export function classic (publisher: string, m: Outgoing): string {
  return `{"p":"${publisher}","s":${m.seq},"t":${m.ts},"d":${m.json}}`
}

/** Characters a batch entry adds around the data, at most: brackets, commas, seq and ts. */
export const ENTRY_CHARS = 34

export function batch (publisher: string, messages: readonly Outgoing[]): string {
  let text = `{"p":"${publisher}","b":[`
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    text += `${i === 0 ? '' : ','}[${m.seq},${m.ts},${m.json}]`
  }
  return text + ']}'
}

/**
 * A received payload as the messages it carries: one for the classic form,
 * an array for a batch, undefined when it is not a well-formed envelope (a
 * batch with one bad entry is dropped whole).
 */
export function decodeMessages (text: string, channel: string): PubsubMessage | PubsubMessage[] | undefined {
  let w: Wire | null
  try {
    w = JSON.parse(text) as Wire | null
  } catch {
    return undefined
  }
  if (w === null || typeof w !== 'object' || typeof w.p !== 'string') return undefined
  if (typeof w.s === 'number') return fromWire(w, w.p, w.s, channel)
  const entries = w.b
  if (!Array.isArray(entries) || entries.length === 0) return undefined
  const publisher = w.p
  const messages: PubsubMessage[] = []
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'number') return undefined
    const seq = entry[0]
    const ts: unknown = entry[1]
    messages.push({ channel, data: entry[2], id: `${publisher}:${seq}`, publisher, seq, ts: typeof ts === 'number' ? ts : 0 })
  }
  return messages
}

function fromWire (w: Wire, publisher: string, seq: number, channel: string): PubsubMessage {
  const message: PubsubMessage = { channel, data: w.d, id: `${publisher}:${seq}`, publisher, seq, ts: typeof w.t === 'number' ? w.t : 0 }
  if (typeof w.i === 'string') message.streamId = w.i
  return message
}

/** A received payload in the classic form only (stream entries are never batched). */
export function decodeMessage (text: string, channel: string): PubsubMessage | undefined {
  const decoded = decodeMessages(text, channel)
  return Array.isArray(decoded) ? undefined : decoded
}
