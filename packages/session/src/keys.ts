import type { Redkit } from '@redkit/core'

/** Escapes what hashTag would fold, so distinct user ids never share a key. */
function tagSafe (text: string): string {
  return text.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * Key layout (under the core prefix):
 *   sess:{<id>}              hash: '#meta', '#cookie' and '.<field>' JSON values
 *   sess-gone:{<id>}         tombstone of a destroyed session
 *   sess-user:{<user>}       sorted set of a user's session ids scored by expiry (ms)
 *   sess-reg:{<tag>}         sorted set of every session id scored by expiry (ms)
 *   sess-reg-users:{<tag>}   sorted set of user ids scored by their latest session expiry (ms)
 *   sess-bridge:<hash>       bridge token payload
 * The two registries share the tag <prefix>sess, so one script updates both on Cluster.
 */
export class SessionKeys {
  private readonly sessionPrefix: string
  private readonly gonePrefix: string
  private readonly userPrefix: string
  readonly registry: string
  readonly usersRegistry: string
  readonly sessionPattern: string
  readonly userPattern: string

  constructor (private readonly redkit: Redkit) {
    this.sessionPrefix = redkit.key('sess', '')
    this.gonePrefix = redkit.key('sess-gone', '')
    this.userPrefix = redkit.key('sess-user', '')
    const tag = redkit.hashTag(`${redkit.prefix}sess`)
    this.registry = redkit.key('sess-reg', tag)
    this.usersRegistry = redkit.key('sess-reg-users', tag)
    this.sessionPattern = `${redkit.escapeGlob(this.sessionPrefix)}{*}`
    this.userPattern = `${redkit.escapeGlob(this.userPrefix)}*`
  }

  session (id: string): string {
    return `${this.sessionPrefix}{${id}}`
  }

  /** The id of a session hash key that sessionPattern matched. */
  idOf (sessionKey: string): string {
    return sessionKey.slice(this.sessionPrefix.length + 1, -1)
  }

  gone (id: string): string {
    return `${this.gonePrefix}{${id}}`
  }

  user (user: string): string {
    return `${this.userPrefix}{${tagSafe(user)}}`
  }

  bridge (hash: string): string {
    return this.redkit.key('sess-bridge', hash)
  }
}
