import type { FastifyPluginAsync } from 'fastify'

export type Access = 'open' | 'login' | 'admin token'

export interface RouteEntry {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  access: Access
  what: string
}

/** The routes a visitor can try; a test checks each is registered and listed in the README. */
export const ROUTES: RouteEntry[] = [
  { method: 'GET', path: '/', access: 'open', what: 'This page' },
  { method: 'POST', path: '/login', access: 'open', what: 'Log in as {"username"}; 5 per minute per client and user' },
  { method: 'GET', path: '/me', access: 'open', what: 'The session: user (null until logged in) and a view counter' },
  { method: 'POST', path: '/logout', access: 'open', what: 'End this session' },
  { method: 'POST', path: '/logout-everywhere', access: 'login', what: 'Revoke every other session of the user' },
  { method: 'POST', path: '/bridge', access: 'login', what: 'Issue a one-time token carrying the login' },
  { method: 'GET', path: '/bridge/:token', access: 'open', what: 'Redeem a bridge token, once (the token is the credential)' },
  { method: 'POST', path: '/jobs/:id/run', access: 'login', what: 'Run a job under a lock; 409 while it runs elsewhere' },
  { method: 'GET', path: '/events', access: 'open', what: 'Server-Sent Events of notifications' },
  { method: 'POST', path: '/notify', access: 'login', what: 'Publish a notification to every instance' },
  { method: 'GET', path: '/api/items', access: 'open', what: 'Cached, rate-limited list with ETag' },
  { method: 'PUT', path: '/api/items/:id', access: 'login', what: 'Create or replace an item; invalidates the cached list' },
  { method: 'GET', path: '/health', access: 'open', what: 'Liveness' },
  { method: 'GET', path: '/ready', access: 'open', what: 'Readiness: Redis answers' },
  { method: 'GET', path: '/docs', access: 'open', what: 'OpenAPI documentation (Swagger UI)' },
  { method: 'GET', path: '/admin/', access: 'open', what: 'Admin dashboard; its data needs the admin token' },
  { method: 'GET', path: '/admin/sessions/stats', access: 'admin token', what: 'One of the admin API routes (see /docs)' }
]

function escape (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page (): string {
  const rows = ROUTES.map((r) => {
    const path = r.method === 'GET' && !r.path.includes(':') ? `<a href="${escape(r.path)}">${escape(r.path)}</a>` : escape(r.path)
    return `<tr><td>${r.method}</td><td>${path}</td><td>${r.access}</td><td>${escape(r.what)}</td></tr>`
  }).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>redkit demo</title></head>
<body>
<h1>redkit demo</h1>
<p>API documentation: <a href="/docs">/docs</a>. Admin dashboard: <a href="/admin/">/admin/</a>.</p>
<table>
<thead><tr><th>Method</th><th>Path</th><th>Access</th><th>What</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body></html>
`
}

/** GET /: what someone who opens the server in a browser (or curls it) can do here. */
export const homeRoutes: FastifyPluginAsync = async (app) => {
  const html = page()
  const json = { name: 'redkit demo', docs: '/docs', admin: '/admin/', routes: ROUTES }
  app.get('/', {
    schema: { summary: 'The routes of this server: HTML for browsers, JSON otherwise', produces: ['text/html', 'application/json'] }
  }, async (request, reply) => {
    reply.header('vary', 'accept')
    // Browsers name text/html; curl's */* and API clients get JSON.
    if (/\btext\/html\b/.test(request.headers.accept ?? '')) {
      return await reply.type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        .send(html)
    }
    return json
  })
}
