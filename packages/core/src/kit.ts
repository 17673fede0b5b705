/**
 * Building blocks shared by redkit's own packages (@redkit/core/kit). Not
 * meant for applications: it follows the packages' needs, not semver promises
 * beyond the fixed release group.
 */
export { optionChecker, ON_REDIS_ERROR, type OnRedisError, type OptionChecker, type OptionErrorClass } from './kit/options.js'
export { ExpiringMap } from './kit/map.js'
export { SERVER_NOW_MS, MS_OF, US_OF, defineLua, type LuaScript } from './kit/lua.js'
/** For scripts run on a client of core's but not defined through defineScript (e.g. on a duplicate): see ScriptOptions.failWhileMigrating. */
export { markFailOnTryAgain as failWhileMigrating } from './cluster.js'
export { pageQuerySchema, fieldsSchema, typedFields, panelValues, ADMIN_PAGE_SIZE, ADMIN_MAX_PAGE_SIZE } from './kit/schemas.js'
export { flushWrites } from './writes.js'
export { TurnQueue, type TurnQueueOptions } from './kit/turn.js'
