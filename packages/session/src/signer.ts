import { Signer } from '@fastify/cookie'

const CACHE_SIZE = 10_000

interface UnsignResult {
  valid: boolean
  renew: boolean
  value: string | null
}

function remember<V> (cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!)
  cache.set(key, value)
  return value
}

/**
 * @fastify/cookie's signer with bounded memo tables. @fastify/session signs
 * the session id and verifies the cookie on every request; for a returning
 * cookie both answers are already known, so the HMACs are skipped. Only
 * valid signatures are memoised, so forged cookies cannot fill the table.
 */
export class CachedSigner {
  private readonly signer: Signer
  private readonly signed = new Map<string, string>()
  private readonly verified = new Map<string, UnsignResult>()

  constructor (secrets: string | string[]) {
    this.signer = new Signer(secrets, 'sha256')
  }

  sign (value: string): string {
    return this.signed.get(value) ?? remember(this.signed, value, this.signer.sign(value))
  }

  unsign (input: string): UnsignResult {
    const known = this.verified.get(input)
    if (known !== undefined) return known
    const result = this.signer.unsign(input)
    return result.valid ? remember(this.verified, input, result) : result
  }
}
