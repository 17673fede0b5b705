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

/** How often the subscription is checked, while anyone waits, by a message sent to itself. */
export const PROBE_INTERVAL = 2000

/**
 * The subscription to release notifications, kept alive: a failed SUBSCRIBE
 * or an ended connection is retried on a new connection with backoff, and a
 * dropped one (which ioredis reconnects) is subscribed again. A Cluster client
 * moves its subscriber to another node by itself, without a word when that
 * fails, so while anyone waits a probe message checks the subscription: one
 * that does not come back by the next check counts as a loss. While it is
 * down, waiters fall back to polling; once it is back, every waiter retries,
 * since the releases published meanwhile were missed.
 */
export function wakeUps (redkit: Redkit, log: FastifyBaseLogger, channel: string,
  wake: (waiter: string) => void, wakeAll: () => void, busy: () => boolean): WakeUps {
  const state: WakeUpStats = { subscribed: false, losses: 0 }
  let closed = false
  let attempt = 0
  let timer: NodeJS.Timeout | undefined
  let current: RedisClient | undefined
  // Waiter ids never start with "~", so no instance takes a probe for a waiter.
  const probeHead = `~probe:${redkit.instanceId}:`
  let probes = 0
  let probe: string | null = null
  /** Whether PUBLISH of the probe has returned: until then a slow server, not a lost subscription, may be why. */
  let published = false

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
      if (message.startsWith('~')) {
        if (message === probe) probe = null
        return
      }
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

  const check = (): void => {
    const sub = current
    if (closed || sub === undefined || !state.subscribed || !busy()) {
      probe = null
      return
    }
    if (probe !== null && !published) return
    if (probe !== null) {
      probe = null
      current = undefined
      sub.disconnect()
      lost('a probe message did not come back')
      retry()
      return
    }
    const sent = `${probeHead}${++probes}`
    probe = sent
    published = false
    // Unanswered while Redis is down: that is not a lost subscription.
    redkit.client?.publish(channel, sent).then(() => { published = true }, () => { if (probe === sent) probe = null })
  }
  const checks = setInterval(check, PROBE_INTERVAL)
  checks.unref()

  connect()
  return {
    stats: () => ({ ...state }),
    close: () => {
      closed = true
      clearInterval(checks)
      clearTimeout(timer)
      current?.disconnect()
      current = undefined
    }
  }
}
