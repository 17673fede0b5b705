import type { Meta } from './backend.js'

const MAX_USER_AGENT = 512

interface RequestLike {
  ip?: string
  headers?: Record<string, string | string[] | undefined>
}

let requestSymbol: symbol | undefined

/** The request a @fastify/session Session belongs to (it keeps it under a private symbol). */
export function requestOf (session: object): RequestLike | undefined {
  if (requestSymbol === undefined) {
    requestSymbol = Object.getOwnPropertySymbols(session).find((s) => s.description === 'request')
    if (requestSymbol === undefined) return undefined
  }
  return (session as Record<symbol, RequestLike | undefined>)[requestSymbol]
}

export function metaFor (session: object, created: number, user: string | undefined): Meta {
  const meta: Meta = { c: created }
  if (user !== undefined) meta.u = user
  const request = requestOf(session)
  if (request === undefined) return meta
  if (typeof request.ip === 'string') meta.ip = request.ip
  const ua = request.headers?.['user-agent']
  if (typeof ua === 'string') meta.ua = ua.slice(0, MAX_USER_AGENT)
  return meta
}
