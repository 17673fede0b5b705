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
 * valid signatures are memoised, so forged cookies cannot fill the table.
 */
export class CachedSigner {
  private readonly signer: Signer
  private readonly signed = new Memo<string>()
  private readonly verified = new Memo<UnsignResult>()

  constructor (secrets: string | string[]) {
    this.signer = new Signer(secrets, 'sha256')
  }

  sign (value: string): string {
    return this.signed.get(value) ?? this.signed.set(value, this.signer.sign(value))
  }

  unsign (input: string): UnsignResult {
    const known = this.verified.get(input)
    if (known !== undefined) return known
    const result = this.signer.unsign(input)
    return result.valid ? this.verified.set(input, result) : result
  }
}
