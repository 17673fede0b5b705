/** What a plugin does when Redis fails: 'open' lets the request through, 'closed' fails it. */
export type OnRedisError = 'open' | 'closed'

export const ON_REDIS_ERROR: readonly OnRedisError[] = ['open', 'closed']

/** A package's coded option error (made with @fastify/error), taking the message. */
export type OptionErrorClass = new (message: string) => Error

/**
 * The option checks every redkit package repeats, bound to the package's own
 * coded error so that each package keeps its FST_REDKIT_<PKG>_INVALID_OPTION.
 */
export interface OptionChecker {
  fail: (message: string) => never
  /** An integer in [min, max]; `undefined` gives the fallback when there is one. */
  integer: (value: unknown, name: string, min: number, max: number, fallback?: number) => number
  /** Refuses keys of `value` not in `names`; `what` prefixes them, e.g. 'memory'. */
  known: (value: object, names: Iterable<string>, what?: string) => void
  /** true or false; `undefined` gives the fallback. */
  boolean: (value: unknown, name: string, fallback: boolean) => boolean
  /** A plain object; `undefined` gives `{}`. */
  object: (value: unknown, name: string) => Record<string, unknown>
  /** 'open' or 'closed'; `undefined` gives the fallback. */
  onRedisError: (value: unknown, fallback: OnRedisError, name?: string) => OnRedisError
}

export function optionChecker (ErrorClass: OptionErrorClass): OptionChecker {
  function fail (message: string): never {
    throw new ErrorClass(message)
  }
  return {
    fail,
    integer (value, name, min, max, fallback) {
      if (value === undefined && fallback !== undefined) return fallback
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
      }
      return value
    },
    known (value, names, what) {
      const list = [...names]
      for (const key of Object.keys(value)) {
        if (!list.includes(key)) {
          fail(`unknown option "${what === undefined ? key : `${what}.${key}`}"; expected one of ${list.join(', ')}`)
        }
      }
    },
    boolean (value, name, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'boolean') fail(`${name} must be true or false, got ${JSON.stringify(value)}`)
      return value
    },
    object (value, name) {
      if (value === undefined) return {}
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object`)
      return value as Record<string, unknown>
    },
    onRedisError (value, fallback, name = 'onRedisError') {
      if (value === undefined) return fallback
      if (value !== 'open' && value !== 'closed') fail(`${name} must be 'open' or 'closed', got ${JSON.stringify(value)}`)
      return value
    }
  }
}
