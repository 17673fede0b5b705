import type { Redkit, RedkitScript, ScriptOptions } from '../index.js'

/**
 * Lua that sets `now` to the server's clock in ms (truncated), so that
 * instances with skewed clocks agree; scripts start with it.
 */
export const SERVER_NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/** Lua function msOf(t): a TIME reply in ms (truncated), for scripts that also need µs. */
export const MS_OF = `
local function msOf (t)
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

/**
 * Lua function usOf(t): a TIME reply in µs. Exact as a Lua number (below
 * 2^53), but Lua 5.1 prints numbers with 14 significant digits: format it
 * with %d before it reaches Redis.
 */
export const US_OF = `
local function usOf (t)
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`

/**
 * A script as a package registers it: the command name, the Lua text, and how
 * many of its arguments are keys (undefined: the count varies and is passed
 * with each call). Each package lists its scripts in one table of these, next
 * to the script texts, so the count sits beside the KEYS the script documents.
 */
export interface LuaScript {
  readonly name: string
  readonly keys: number | undefined
  readonly lua: string
}

/** Registers a script from a package's SCRIPTS table (EVALSHA, EVAL after NOSCRIPT). */
export function defineLua<T> (redkit: Redkit, script: LuaScript, opts?: ScriptOptions): RedkitScript<T> {
  return redkit.defineScript<T>(script.name, script.lua, script.keys, opts)
}
