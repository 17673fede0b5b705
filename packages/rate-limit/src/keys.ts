import { createHash } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import { RateLimitInvalidKeyError } from './errors.js'

/** Expands an IPv6 address into its 8 groups; handles '::' and a trailing dotted IPv4. */
function ipv6Groups (address: string): number[] {
  let text = address.toLowerCase()
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number]
    text = text.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16)
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16))
}

/**
 * The rate-limit identity of a client address: IPv4 as is, IPv4-mapped IPv6
 * as IPv4, other IPv6 addresses reduced to their /subnet prefix, so rotating
 * addresses inside one allocation stays one bucket.
 */
export function clientKeyOf (ip: string, subnet: number): string {
  if (isIPv4(ip)) return ip
  if (!isIPv6(ip)) return ip.toLowerCase()
  const groups = ipv6Groups(ip)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!]
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  const masked = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, subnet - i * 16))
    return bits === 16 ? g : bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff
  })
  return `${masked.map((g) => g.toString(16)).join(':')}/${subnet}`
}

/**
 * Turns a user key into the part stored inside the hash tag. Long keys, keys
 * with braces (which would break the tag) and keys that look like a hashed
 * key are replaced by a SHA-256, so distinct keys never collide.
 */
export function storedKey (key: string, maxLength: number): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new RateLimitInvalidKeyError(`expected a non-empty string, got ${typeof key === 'string' ? 'an empty string' : typeof key}`)
  }
  if (key.length <= maxLength && !/[{}]/.test(key) && !key.startsWith('#')) return key
  return '#' + createHash('sha256').update(key).digest('base64url')
}
