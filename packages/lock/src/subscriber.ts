import type { FastifyBaseLogger } from 'fastify'
import { backoff, type Redkit, type RedisClient } from '@redkit/core'

export interface WakeUpStats {
  /** True while the release notifications are subscribed. */
  subscribed: boolean
  /** How often the subscription failed or was lost (each is logged). */
  losses: number
}

export interface WakeUps {
  stats: () => WakeUpStats
  close: () => void
}

/**
 * The subscription to release notifications, kept alive: a failed SUBSCRIBE
 * or an ended connection is retried on a new connection with backoff, and a
 * dropped one (which ioredis reconnects) is subscribed again. While it is
 * down, waiters fall back to polling; once it is back, every waiter retries,
 * since the releases published meanwhile were missed.
 */
export function wakeUps (redkit: Redkit, log: FastifyBaseLogger, channel: string,
  wake: (waiter: string) => void, wakeAll: () => void): WakeUps {
  const state: WakeUpStats = { subscribed: false, losses: 0 }
  let closed = false
  let attempt = 0
  let timer: NodeJS.Timeout | undefined
  let current: RedisClient | undefined

  const lost = (why: string): void => {
    state.subscribed = false
    state.losses++
    log.warn({ err: why, attempt }, '@redkit/lock: release notifications lost; waiters poll until they are back')
  }

  const subscribe = (sub: RedisClient): void => {
    sub.subscribe(channel).then(() => {
      if (closed || current !== sub) return
      state.subscribed = true
      attempt = 0
      wakeAll()
    }, (err: Error) => {
      if (current !== sub) return
      // A new connection, maybe to another node: this one may never serve the subscription.
      current = undefined
      sub.disconnect()
      lost(err.message)
      retry()
    })
  }

  const connect = (): void => {
    if (closed) return
    const sub = redkit.duplicate()
    current = sub
    sub.on('message', (ch: string, message: string) => {
      if (ch !== channel) return
      for (const waiter of message.split(' ')) wake(waiter)
    })
    sub.on('close', () => { if (current === sub && state.subscribed) lost('the connection closed') })
    // ioredis reconnects by itself; subscribing again confirms the subscription before waiters retry.
    let reconnected = false
    sub.on('ready', () => {
      if (reconnected && current === sub && !state.subscribed && !closed) subscribe(sub)
      reconnected = true
    })
    sub.once('end', () => {
      if (current !== sub || closed) return
      current = undefined
      if (state.subscribed) lost('the connection ended')
      retry()
    })
    subscribe(sub)
  }

  const retry = (): void => {
    if (closed) return
    timer = setTimeout(connect, backoff(attempt++, 50, 5000))
    timer.unref()
  }

  connect()
  return {
    stats: () => ({ ...state }),
    close: () => {
      closed = true
      clearTimeout(timer)
      current?.disconnect()
      current = undefined
    }
  }
}
