import { CacheInvalidArgumentError } from './errors.js'
import { MAX_KEY_LENGTH, MAX_TAGS, MAX_TTL } from './options.js'

export function invalid (message: string): never {
  throw new CacheInvalidArgumentError(message)
}

export function checkKey (key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    invalid(`key must be a string of 1 to ${MAX_KEY_LENGTH} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`)
  }
  return key
}

export function checkTtl (value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TTL) {
    invalid(`${name} must be an integer number of ms from ${min} to ${MAX_TTL}, got ${JSON.stringify(value)}`)
  }
  return value
}

export function checkTags (tags: unknown): string[] {
  if (tags === undefined) return []
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) invalid(`tags must be an array of at most ${MAX_TAGS} strings`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > 256) invalid(`each tag must be a string of 1 to 256 characters, got ${JSON.stringify(tag)}`)
  }
  return [...new Set(tags as string[])]
}

export function checkPrefix (prefix: unknown): string {
  if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH) invalid(`clear() takes a key prefix string of at most ${MAX_KEY_LENGTH} characters`)
  return prefix
}
