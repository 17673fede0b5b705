/** Turns cached values into strings and back. */
export interface Serializer {
  serialize: (value: unknown) => string
  deserialize: (text: string) => unknown
}

/** Thrown by the default serializer; the cache turns it into FST_REDKIT_CACHE_NOT_SERIALIZABLE. */
export class UnserializableValueError extends Error {}

const PLAIN = 'j'
const TAGGED = 'd'
const UNSUPPORTED: Array<[new (...args: never[]) => object, string]> = [
  [Map, 'a Map'], [Set, 'a Set'], [WeakMap, 'a WeakMap'], [WeakSet, 'a WeakSet'], [Promise, 'a Promise']
]

function reject (what: string, key: string): never {
  throw new UnserializableValueError(`${what}${key === '' ? '' : ` at property "${key}"`} has no JSON form`)
}

/** Defines rather than assigns, so a "__proto__" key stays a plain property. */
function put (target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function escapeKeys (value: Record<string, unknown>): Record<string, unknown> | undefined {
  const keys = Object.keys(value)
  if (!keys.some((k) => k.startsWith('$'))) return undefined
  const out: Record<string, unknown> = {}
  for (const key of keys) put(out, key.startsWith('$') ? '$' + key : key, value[key])
  return out
}

/**
 * JSON that keeps Dates. A Date becomes {"$date": iso}; user keys starting
 * with "$" get one more "$" so they can never be mistaken for a Date. Output
 * without Dates or "$" keys is flagged so reading it is a plain JSON.parse.
 * Functions, symbols, BigInts, non-finite numbers, Maps, Sets, cycles and
 * undefined (at any depth, including an object property whose value is
 * undefined) are rejected rather than silently dropped or turned into null.
 */
export const jsonSerializer: Serializer = {
  serialize (value) {
    let tagged = false
    const replacer = function (this: Record<string, unknown>, key: string, v: unknown): unknown {
      const raw = this[key]
      if (raw instanceof Date) {
        if (Number.isNaN(raw.getTime())) reject('an invalid Date', key)
        tagged = true
        return { $date: raw.toISOString() }
      }
      switch (typeof v) {
        case 'function': return reject('a function', key)
        case 'symbol': return reject('a symbol', key)
        case 'bigint': return reject('a BigInt', key)
        case 'number': return Number.isFinite(v) ? v : reject(String(v), key)
        // JSON would write null in an array and drop an object property: neither reads back as stored.
        case 'undefined': return reject('undefined', key)
        case 'object': {
          if (v === null || Array.isArray(v)) return v
          for (const [type, name] of UNSUPPORTED) if (v instanceof type) reject(name, key)
          const escaped = escapeKeys(v as Record<string, unknown>)
          if (escaped === undefined) return v
          tagged = true
          return escaped
        }
        default: return v
      }
    }
    if (value === undefined) reject('undefined', '')
    let json: string
    try {
      json = JSON.stringify(value, replacer)
    } catch (err) {
      if (err instanceof UnserializableValueError) throw err
      throw new UnserializableValueError((err as Error).message)
    }
    return (tagged ? TAGGED : PLAIN) + json
  },
  deserialize (text) {
    const body = text.slice(1)
    if (text[0] === PLAIN) return JSON.parse(body)
    return JSON.parse(body, function (key, v: unknown) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
      const keys = Object.keys(v)
      if (keys.length === 1 && keys[0] === '$date' && typeof (v as { $date: unknown }).$date === 'string') {
        return new Date((v as { $date: string }).$date)
      }
      if (!keys.some((k) => k.startsWith('$'))) return v
      const out: Record<string, unknown> = {}
      for (const k of keys) put(out, k.startsWith('$') ? k.slice(1) : k, (v as Record<string, unknown>)[k])
      return out
    })
  }
}
