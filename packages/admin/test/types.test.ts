import t from 'tap'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import redkitAdmin, {
  redkitAdmin as named, checkOptions, type AdminAuthHook, type AdminOptions, type NodeInfo, type InfoSection, AdminUnauthorizedError,
  AdminInvalidOptionError
} from '../src/index.js'
import type { SessionInfo } from '@redkit/session'

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
// The session metadata the session routes answer with is @redkit/session's own type.
assertTrue<Equal<keyof SessionInfo, 'sessionId' | 'userId' | 'created' | 'expires' | 'ip' | 'userAgent'>>()
assertTrue<Equal<InfoSection, 'server' | 'clients' | 'memory' | 'stats' | 'keyspace' | 'replication'>>()
expectType<string>(({} as NodeInfo).node)

t.equal(typeof redkitAdmin, 'function')
t.equal(new AdminUnauthorizedError().statusCode, 401)
t.equal(new AdminInvalidOptionError('x').code, 'FST_REDKIT_ADMIN_INVALID_OPTION')
t.equal(checkOptions({ dangerouslyDisableAuth: true }).authDisabled, true)
