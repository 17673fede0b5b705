import { Signer } from '@fastify/cookie'

/** Entries per generation; a memo table holds at most two generations. */
const GENERATION_SIZE = 5_000

interface UnsignResult {
  valid: boolean
  renew: boolean
  value: string | null
}

/**
 * A bounded memo table that drops its older half at once. Evicting one
 * entry per insert from a Map (delete of its first key) gets slower as
 * deleted slots pile up at the front, which new sessions, each signed once,
 * did on every request.
 */
class Memo<V> {
  private current = new Map<string, V>()
  private previous = new Map<string, V>()

  get (key: string): V | undefined {
    const found = this.current.get(key)
    if (found !== undefined) return found
    const old = this.previous.get(key)
    return old === undefined ? undefined : this.set(key, old)
  }

  set (key: string, value: V): V {
    if (this.current.size >= GENERATION_SIZE) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(key, value)
    return value
  }
}

/**
 * @fastify/cookie's signer with bounded memo tables. @fastify/session signs
 * the session id and verifies the cookie on every request; for a returning
 * cookie both answers are already known, so the HMACs are skipped. Only
 * valid signatures are memoised, so forged cookies cannot fill the table,
 * and a signature enters the table only once its cookie has come back: a new
 * session is signed once and most never return (crawlers, one-off visits), so
 * keeping theirs would only churn the table and the old generation of the heap.
 */
export class CachedSigner {
  private readonly signer: Signer
  private readonly signed = new Memo<string>()
  private readonly verified = new Memo<UnsignResult>()

  constructor (secrets: string | string[]) {
    this.signer = new Signer(secrets, 'sha256')
  }

  sign (value: string): string {
    return this.signed.get(value) ?? this.signer.sign(value)
  }

  unsign (input: string): UnsignResult {
    let result = this.verified.get(input)
    if (result === undefined) {
      result = this.signer.unsign(input)
      if (!result.valid) return result
      this.verified.set(input, result)
    }
    // A cookie signed with the current secret is exactly what signing its value gives.
    if (!result.renew && result.value !== null && this.signed.get(result.value) === undefined) this.signed.set(result.value, input)
    return result
  }
}
