/// <reference types="@fastify/session" preserve="true" />
// The reference keeps @fastify/session's request.session types in this package's declarations.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { createBridgeTokens, type BridgeTokens } from './bridge.js'
import { CachedSigner } from './signer.js'
import { checkPluginOptions, type SessionPluginOptions } from './options.js'
import { describeSessions } from './admin.js'
import type { IndexCleanupReport, SessionCounts, SessionInfo, SessionListOptions, SessionListPage } from './listing.js'
import { FRESH_ID, SessionStore, type UserSession } from './store.js'

/** Per-user session administration. */
export interface SessionAdmin {
  readonly store: SessionStore
  /** Live sessions of a user: ids, created and expiry times, IP and user agent. */
  listByUser: (userId: string | number) => Promise<UserSession[]>
  /** Destroys one session on every instance. */
  revoke: (sessionId: string) => Promise<void>
  /** "Log out everywhere": destroys every session of the user except `except`; returns how many. */
  revokeAll: (userId: string | number, opts?: { except?: string | string[] }) => Promise<number>
  /** Metadata of one session (never its contents); null when it does not exist. */
  meta: (sessionId: string) => Promise<SessionInfo | null>
  /** A page of session metadata across every Cluster master, resumable with its opaque cursor. */
  list: (opts?: SessionListOptions) => Promise<SessionListPage>
  /** Live sessions and per-user indexes. */
  count: () => Promise<SessionCounts>
  /** Drops per-user index entries whose session is gone; reports what it looked at and removed. */
  cleanup: () => Promise<IndexCleanupReport>
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionAdmin
    bridgeTokens: BridgeTokens
  }
}

/**
 * Links the session @fastify/session just built from a load to that load
 * (it runs right after @fastify/session's own onRequest hook, while the
 * store delivers), so a save writes only the fields that changed.
 *
 * A loaded session whose cookie differs from its freshly signed id was signed
 * with an older secret of the rotation list. @fastify/session would clear
 * such a cookie unless the session changed; pointing the parsed cookie at
 * the new signature makes it re-sign (and with rolling, re-send) instead.
 */
function adoptSnapshot (store: SessionStore, cookieName: string) {
  return function adopt (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const session = request.session as object | null
    if (session !== null && store.adopt(session)) {
      const signed = request.session.encryptedSessionId
      if (request.cookies[cookieName] !== signed) request.cookies[cookieName] = signed
    }
    done()
  }
}

const plugin: FastifyPluginAsync<SessionPluginOptions> = async (app: FastifyInstance, options) => {
  const opts = checkPluginOptions(options)
  const { ttl, maxSize, userField, tombstoneTtl, maxEntries } = options
  const store = new SessionStore(app, { ttl, maxSize, userField, tombstoneTtl, maxEntries })

  app.decorate<SessionAdmin>('sessions', {
    store,
    listByUser: async (userId) => await store.listByUser(userId),
    revoke: async (sessionId) => { await store.revoke(sessionId) },
    revokeAll: async (userId, o) => await store.revokeAll(userId, o),
    meta: async (sessionId) => await store.meta(sessionId),
    list: async (o) => await store.list(o),
    count: async () => await store.count(),
    cleanup: async () => await store.cleanup()
  })
  app.redkit.describe(describeSessions(store, app.redkit.mode))
  app.decorate<BridgeTokens>('bridgeTokens', createBridgeTokens(() => store.backend, opts.store.maxSize))
  app.addHook('onClose', async () => { store.close() })

  if (opts.idGenerator === undefined) app.decorateRequest(FRESH_ID, null)
  if (!app.hasPlugin('@fastify/cookie')) await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: new CachedSigner(opts.secret),
    store,
    cookieName: opts.cookieName,
    cookie: { ...opts.cookie },
    rolling: opts.rolling,
    saveUninitialized: opts.saveUninitialized,
    // Ids from an idGenerator of the app's may repeat, so only the store's own count as fresh.
    idGenerator: opts.idGenerator ?? ((request?: unknown) => store.generateId(request))
  })
  app.addHook('onRequest', adoptSnapshot(store, opts.cookieName))
}

export const redkitSession = fp(plugin, {
  name: '@redkit/session',
  fastify: '5.x',
  dependencies: ['@redkit/core']
})
export default redkitSession

export { SessionStore, RedisSessionStore, checkId, type SessionData, type UserSession, type Callback } from './store.js'
export {
  type SessionInfo, type SessionMeta, type SessionListOptions, type SessionListPage, type SessionCounts, type IndexCleanupReport
} from './listing.js'
export { MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT } from './cursor.js'
export type { SessionStats } from './admin.js'
export { createBridgeTokens, type BridgeTokens, type IssueOptions } from './bridge.js'
export {
  checkPluginOptions, checkStoreOptions, DEFAULT_TTL, DEFAULT_MAX_SIZE, DEFAULT_USER_FIELD, DEFAULT_TOMBSTONE_TTL,
  DEFAULT_MAX_ENTRIES, DEFAULT_BRIDGE_TTL, DEFAULT_COOKIE_NAME, MIN_SECRET_LENGTH,
  type SessionPluginOptions, type SessionStoreOptions, type SessionCookieOptions, type ResolvedStoreOptions
} from './options.js'
export * from './errors.js'
