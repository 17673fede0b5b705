/** What a plugin does when Redis fails: 'open' lets the request through, 'closed' fails it. */
export type OnRedisError = 'open' | 'closed'

export const ON_REDIS_ERROR: readonly OnRedisError[] = ['open', 'closed']

/** A package's coded option error (made with @fastify/error), taking the message. */
export type OptionErrorClass = new (message: string) => Error

/**
 * The option checks every redkit package repeats, bound to the package's own
 * coded error so that each package keeps its FST_REDKIT_<PKG>_INVALID_OPTION.
 * Declare the checker with its type (`const check: OptionChecker = …`) so that
 * TypeScript narrows after `check.fail(…)`.
 */
export interface OptionChecker {
  fail: (message: string) => never
  /**
   * A package's options, or a group of them named `what` (e.g. 'cookie'): an
   * object, not an array, with no key outside `names`; `undefined` gives `{}`.
   */
  options: <T extends object = Record<string, unknown>>(value: unknown, names: Iterable<string>, what?: string) => T
  /** An integer in [min, max]; `undefined` gives the fallback when there is one. */
  integer: (value: unknown, name: string, min: number, max: number, fallback?: number) => number
  /** One of `values`; `undefined` gives the fallback when there is one. */
  oneOf: <T>(value: unknown, name: string, values: readonly T[], fallback?: T) => T
  /** true or false; `undefined` gives the fallback. */
  boolean: (value: unknown, name: string, fallback: boolean) => boolean
  /** A function, or `undefined`; `signature` tells what is expected, e.g. '(request) => boolean'. */
  func: <F>(value: unknown, name: string, signature?: string) => F | undefined
  /** Refuses keys of `value` not in `names`; `what` prefixes them, e.g. 'memory'. */
  known: (value: object, names: Iterable<string>, what?: string) => void
  /** A plain object; `undefined` gives `{}`. */
  object: (value: unknown, name: string) => Record<string, unknown>
  /** 'open' or 'closed'; `undefined` gives the fallback. */
  onRedisError: (value: unknown, fallback: OnRedisError, name?: string) => OnRedisError
}

const show = (value: unknown): string => typeof value === 'string' ? `'${value}'` : String(value)

export function optionChecker (ErrorClass: OptionErrorClass): OptionChecker {
  function fail (message: string): never {
    throw new ErrorClass(message)
  }
  function object (value: unknown, name: string): Record<string, unknown> {
    if (value === undefined) return {}
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object`)
    return value as Record<string, unknown>
  }
  function known (value: object, names: Iterable<string>, what?: string): void {
    const list = [...names]
    for (const key of Object.keys(value)) {
      if (!list.includes(key)) {
        fail(`unknown option "${what === undefined ? key : `${what}.${key}`}"; expected one of ${list.join(', ')}`)
      }
    }
  }
  function oneOf<T> (value: unknown, name: string, values: readonly T[], fallback?: T): T {
    if (value === undefined && fallback !== undefined) return fallback
    if (!values.includes(value as T)) {
      const choices = values.length === 2 ? `${show(values[0])} or ${show(values[1])}` : `one of ${values.map(show).join(', ')}`
      fail(`${name} must be ${choices}, got ${JSON.stringify(value)}`)
    }
    return value as T
  }
  return {
    fail,
    object,
    known,
    oneOf,
    options<T extends object> (value: unknown, names: Iterable<string>, what?: string): T {
      const o = object(value, what ?? 'options')
      known(o, names, what)
      return o as T
    },
    integer (value, name, min, max, fallback) {
      if (value === undefined && fallback !== undefined) return fallback
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
      }
      return value
    },
    boolean: (value, name, fallback) => oneOf(value, name, [true, false], fallback),
    func<F> (value: unknown, name: string, signature?: string): F | undefined {
      if (value !== undefined && typeof value !== 'function') {
        fail(`${name} must be a function${signature === undefined ? '' : ` ${signature}`}`)
      }
      return value as F | undefined
    },
    onRedisError: (value, fallback, name = 'onRedisError') => oneOf(value, name, ON_REDIS_ERROR, fallback)
  }
}
