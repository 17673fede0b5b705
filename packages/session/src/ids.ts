import { randomBytes } from 'node:crypto'
import { SESSION_ID } from './backend.js'
import { SessionInvalidIdError, SessionInvalidUserIdError } from './errors.js'

export const MAX_USER_ID = 512

export function checkId (id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SESSION_ID.test(id)) throw new SessionInvalidIdError()
}

/** A user id as indexed, or undefined when the value cannot be one. */
export function userKey (value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 && value.length <= MAX_USER_ID ? value : undefined
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

export function checkUserId (value: unknown): string {
  const user = userKey(value)
  if (user === undefined) throw new SessionInvalidUserIdError()
  return user
}

const ID_BYTES = 24
const POOL_BYTES = ID_BYTES * 128
let pool = randomBytes(POOL_BYTES)
let used = 0

/** A new session id: 192 random bits in base64url (32 characters), drawn from a pooled buffer. */
export function newSessionId (): string {
  if (used + ID_BYTES > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES)
    used = 0
  }
  const id = pool.toString('base64url', used, used + ID_BYTES)
  used += ID_BYTES
  return id
}
