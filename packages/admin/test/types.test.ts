import t from 'tap'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import redkitAdmin, {
  redkitAdmin as named, checkOptions, type AdminAuthHook, type AdminOptions, type SessionInfo, type SessionPage,
  type CleanupReport, type SessionStats, type SessionsApi, type NodeInfo, type InfoSection, AdminUnauthorizedError, AdminInvalidOptionError
} from '../src/index.js'
import type { SessionAdmin } from '@redkit/session'
import type { Locks } from '@redkit/lock'
import type { Pubsub } from '@redkit/pubsub'
import type { Cache } from '@redkit/cache'
import type { RateLimitApi as RateLimitPackageApi } from '@redkit/rate-limit'
import type { CacheApi, LocksApi, PubsubApi, RateLimitApi } from '../src/packages.js'

function expectType<T> (value: T): T { return value }
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false
function assertTrue<T extends true> (): T | undefined { return undefined }

expectType<FastifyPluginAsync<AdminOptions>>(redkitAdmin)
expectType<typeof redkitAdmin>(named)
expectType<AdminAuthHook>((request: FastifyRequest) => request.headers['x-admin'] === '1')
expectType<AdminAuthHook>(async () => false)
expectType<AdminOptions>({ token: 'x'.repeat(16), prefix: '/ops', healthPrefix: '', readyTimeout: 500, dashboard: false, metrics: true })
// @ts-expect-error the auth hook returns a boolean
expectType<AdminOptions>({ auth: () => 'yes' })
// @ts-expect-error prefix is a string
expectType<AdminOptions>({ token: 'x', prefix: 1 })
assertTrue<Equal<SessionPage['nextCursor'], string | null>>()
assertTrue<Equal<keyof SessionInfo, 'sessionId' | 'userId' | 'created' | 'expires' | 'ip' | 'userAgent'>>()
assertTrue<Equal<keyof CleanupReport, 'indexes' | 'entries' | 'removed'>>()
assertTrue<Equal<SessionStats['users'], number>>()
// The shape admin relies on is what @redkit/session declares, so a change there fails to compile here.
expectType<SessionsApi>({} as SessionAdmin)
// The same for every package admin reads: a change of a shape admin relies on fails to compile here.
expectType<LocksApi>({} as Locks)
expectType<PubsubApi>({} as Pubsub)
expectType<CacheApi>({} as Cache)
expectType<RateLimitApi>({} as RateLimitPackageApi)
assertTrue<Equal<InfoSection, 'server' | 'clients' | 'memory' | 'stats' | 'keyspace' | 'replication'>>()
expectType<string>(({} as NodeInfo).node)

t.equal(typeof redkitAdmin, 'function')
t.equal(new AdminUnauthorizedError().statusCode, 401)
t.equal(new AdminInvalidOptionError('x').code, 'FST_REDKIT_ADMIN_INVALID_OPTION')
t.equal(checkOptions({ dangerouslyDisableAuth: true }).authDisabled, true)
