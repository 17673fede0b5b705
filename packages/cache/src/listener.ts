import type { Redkit, RedkitSubscription } from '@redkit/core'
import type { BackendEvents, ChangeMessage } from './backend.js'
import { Waiters } from './waiters.js'

/** Change messages from every instance, on the app's shared subscriber (redkit.subscribe()). */
export class ChangeListener {
  private subscription: RedkitSubscription | null = null
  /** Set once L1 relies on the messages: a loss nobody notices would leave its copies stale. */
  private probing = false
  private closed = false
  private readonly waiters = new Waiters()

  constructor (
    private readonly redkit: Redkit,
    private readonly channel: string,
    private readonly events: BackendEvents
  ) {}

  /** True while subscribed: only then is an in-process copy trusted. */
  get listening (): boolean { return this.subscription?.active ?? false }

  async wait (key: string, ms: number): Promise<void> {
    this.subscribe()
    await this.waiters.wait(key, ms)
  }

  /**
   * Subscribes (once) for L1, and resolves once subscribed or after the
   * command deadline: until then L1 is simply bypassed, while core keeps
   * retrying.
   */
  async listen (): Promise<void> {
    this.probing = true
    const subscription = this.subscribe()
    if (subscription === null) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([subscription.ready, new Promise((resolve) => { timer = setTimeout(resolve, this.redkit.commandTimeout) })])
    clearTimeout(timer)
  }

  private subscribe (): RedkitSubscription | null {
    if (this.closed) return null
    // Messages are missed while unsubscribed: copies are dropped on the loss,
    // and again once back, so a read made meanwhile is not copied.
    this.subscription ??= this.redkit.subscribe(this.channel, (_, text) => this.onMessage(text), {
      onInactive: () => this.events.onReset(),
      onActive: () => this.events.onReset(),
      probe: () => this.probing
    })
    return this.subscription
  }

  private onMessage (text: string): void {
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

  close (): void {
    this.closed = true
    this.subscription?.close().catch(() => {})
    this.subscription = null
    this.waiters.wakeAll()
  }
}
