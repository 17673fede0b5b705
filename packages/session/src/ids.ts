import { SESSION_ID } from './backend.js'
import { SessionInvalidIdError, SessionInvalidUserIdError } from './errors.js'

const MAX_USER_ID = 512

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
