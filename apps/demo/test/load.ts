import { Browser } from './instances.js'

export interface Sample {
  route: string
  status: number
  ms: number
  startedAt: number
}

export interface LoadRun {
  stop: () => Promise<Sample[]>
}

/**
 * Sends requests in a loop from a few workers until stopped. Each request has a
 * client-side timeout far above any deadline, so a hang shows as status 0.
 */
export function startLoad (urls: string[], workers: number, browsers: Browser[]): LoadRun {
  const samples: Sample[] = []
  const state = { running: true }
  const routes = ['/me', '/api/items', '/jobs/load/run?ms=1']
  const loops = Array.from({ length: workers }, async (_, w) => {
    let i = 0
    while (state.running) {
      const route = routes[i % routes.length]!
      const base = urls[(w + i) % urls.length]!
      const browser = browsers[w % browsers.length]!
      i++
      const startedAt = Date.now()
      const started = performance.now()
      let status = 0
      try {
        const send = async (): Promise<Response> => await browser.fetch(`${base}${route}`, {
          method: route.startsWith('/jobs') ? 'POST' : 'GET',
          signal: AbortSignal.timeout(10_000)
        })
        let res = await send()
        if (res.status === 401) {
          // The session was lost with Redis's data (a restart without persistence): log in again, as a client would.
          await res.arrayBuffer()
          await browser.fetch(`${base}/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: `load-worker-${w}` }),
            signal: AbortSignal.timeout(10_000)
          })
          res = await send()
        }
        status = res.status
        await res.arrayBuffer()
      } catch {}
      samples.push({ route, status, ms: performance.now() - started, startedAt })
    }
  })
  return {
    stop: async () => {
      state.running = false
      await Promise.all(loops)
      return samples
    }
  }
}

export function summarize (samples: Sample[]): string {
  const byStatus = new Map<number, number>()
  for (const s of samples) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1)
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b)
  const pct = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0)
  const statuses = [...byStatus].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`).join(' ')
  return `${samples.length} requests, statuses ${statuses}, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`
}
