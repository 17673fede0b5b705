/*
 * How a waiter sleeps between attempts. Many waiters often share one signal
 * (the app's closing signal, or one request's signal passed to many acquires),
 * so each signal gets one listener that fans out, instead of one per waiter:
 * Node warns about a leak past ten listeners on one EventTarget.
 */

export interface Waiter {
  /** A wake-up that arrived while no sleep was in progress. */
  pending: boolean
  wake: () => void
}

export function newWaiter (): Waiter {
  const waiter: Waiter = { pending: false, wake: () => { waiter.pending = true } }
  return waiter
}

type OnAbort = (reason: unknown) => void

const watchers = new WeakMap<AbortSignal, Set<OnAbort>>()

/** Calls fn once when signal aborts, through one shared listener per signal; returns the unsubscribe. */
function onAbort (signal: AbortSignal, fn: OnAbort): () => void {
  let set = watchers.get(signal)
  if (set === undefined) {
    const fns = new Set<OnAbort>()
    set = fns
    watchers.set(signal, fns)
    signal.addEventListener('abort', () => {
      watchers.delete(signal)
      for (const f of fns) f(signal.reason)
    }, { once: true })
  }
  const fns = set
  fns.add(fn)
  return () => { fns.delete(fn) }
}

/** Waits `ms`, or until woken; rejects when either signal aborts. */
export async function sleep (ms: number, waiter: Waiter, closing: AbortSignal, signal: AbortSignal | undefined): Promise<void> {
  if (waiter.pending) {
    waiter.pending = false
    return
  }
  await new Promise<void>((resolve, reject) => {
    for (const s of [closing, signal]) {
      if (s?.aborted === true) {
        reject(s.reason)
        return
      }
    }
    const settle = (): void => {
      clearTimeout(timer)
      offClosing()
      offSignal?.()
      waiter.wake = () => { waiter.pending = true }
    }
    const done = (): void => {
      settle()
      resolve()
    }
    const aborted = (reason: unknown): void => {
      settle()
      reject(reason)
    }
    const timer = setTimeout(done, ms)
    waiter.wake = done
    const offClosing = onAbort(closing, aborted)
    const offSignal = signal === undefined ? undefined : onAbort(signal, aborted)
  })
}
