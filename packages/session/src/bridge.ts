import { createHash, randomBytes } from 'node:crypto'
import type { SessionBackend } from './backend.js'
import {
  BridgePayloadInvalidError, BridgePayloadTooLargeError, BridgeTokenInvalidError, BridgeTtlInvalidError
} from './errors.js'
import { DEFAULT_BRIDGE_TTL, MAX_BRIDGE_TTL } from './options.js'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export interface IssueOptions {
  /** Seconds the token stays redeemable. Default 60. */
  ttl?: number
}

/** Single-use tokens that carry a payload from one place to another (e.g. a login handed to another app). */
export interface BridgeTokens {
  /** Stores the payload and returns a 256-bit base64url token. */
  issue: (payload: unknown, opts?: IssueOptions) => Promise<string>
  /** Returns the payload exactly once; null when expired or already used. */
  redeem: <T = unknown>(token: string) => Promise<T | null>
}

/** Only a digest of the token is stored, so a copy of the data holds no usable tokens. */
function storageKey (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export function createBridgeTokens (backend: () => SessionBackend, maxSize: number): BridgeTokens {
  return {
    async issue (payload, opts = {}) {
      const ttl = opts.ttl ?? DEFAULT_BRIDGE_TTL
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_BRIDGE_TTL) {
        throw new BridgeTtlInvalidError(JSON.stringify(ttl) ?? String(ttl))
      }
      let raw: string | undefined
      try {
        raw = JSON.stringify(payload)
      } catch (err) {
        throw new BridgePayloadInvalidError((err as Error).message)
      }
      if (raw === undefined) throw new BridgePayloadInvalidError('it has no JSON form')
      const size = raw.length * 3 <= maxSize ? raw.length : Buffer.byteLength(raw)
      if (size > maxSize) throw new BridgePayloadTooLargeError(size, maxSize)
      const token = randomBytes(32).toString('base64url')
      await backend().putToken(storageKey(token), raw, ttl * 1000)
      return token
    },
    async redeem<T> (token: string): Promise<T | null> {
      if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) throw new BridgeTokenInvalidError()
      const raw = await backend().takeToken(storageKey(token))
      return raw === null ? null : JSON.parse(raw) as T
    }
  }
}
