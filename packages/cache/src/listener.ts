import type { FastifyBaseLogger } from 'fastify'
import type { Redkit, RedisClient } from '@redkit/core'
import type { BackendEvents, ChangeMessage } from './backend.js'
import { Waiters } from './waiters.js'

/** Change messages from every instance, on a subscriber connection of its own. */
export class ChangeListener {
  listening = false
  private subscriber: RedisClient | null = null
  private subscribing: Promise<void> | null = null
  private readonly waiters = new Waiters()

  constructor (
    private readonly redkit: Redkit,
    private readonly channel: string,
    private readonly log: FastifyBaseLogger,
    private readonly events: BackendEvents
  ) {}

  async wait (key: string, ms: number): Promise<void> {
    this.listen().catch(() => {})
    await this.waiters.wait(key, ms)
  }

  private onMessage (channel: string, text: string): void {
    if (channel !== this.channel) return
    let message: ChangeMessage
    try {
      message = JSON.parse(text) as ChangeMessage
    } catch {
      return
    }
    this.events.onChange(message)
    for (const key of message.k ?? []) this.waiters.wake(key)
    if (message.p !== undefined && message.t === undefined) this.waiters.wakePrefix(message.p)
  }

  /** Subscribes once; later calls share the first. */
  async listen (): Promise<void> {
    this.subscribing ??= this.subscribe()
    await this.subscribing
  }

  private async subscribe (): Promise<void> {
    const sub = this.redkit.duplicate()
    this.subscriber = sub
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text))
    // While the subscriber is down, changes from other instances go unseen.
    sub.on('close', () => {
      if (!this.listening) return
      this.listening = false
      this.events.onReset()
    })
    sub.on('ready', () => {
      // ioredis resubscribes by itself after a reconnect.
      if (this.subscriber === sub && sub.status === 'ready') this.listening = true
    })
    try {
      await sub.subscribe(this.channel)
      this.listening = true
    } catch (err) {
      this.subscribing = null
      this.subscriber = null
      sub.disconnect()
      this.log.warn({ err: (err as Error).message }, 'redkit cache: could not subscribe to cache changes; waiters fall back to polling')
      throw err
    }
  }

  close (): void {
    this.listening = false
    this.waiters.wakeAll()
  }
}
