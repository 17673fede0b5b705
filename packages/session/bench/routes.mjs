// The routes every compared server serves, so that they do the same work per request.

export function routes (app) {
  // A fixed-cookie read+modify+write: one counter goes up on every request.
  app.get('/rmw', async (request) => {
    const n = (request.session.get('n') ?? 0) + 1
    request.session.set('n', n)
    return { n }
  })
  // Every request without a cookie creates and stores a new session.
  app.get('/new', async (request) => {
    request.session.set('user', 'u1')
    return { ok: true }
  })
  app.get('/login', async (request) => {
    request.session.set('n', 0)
    request.session.set('user', { id: 42, name: 'bench', roles: ['a', 'b'] })
    return { ok: true }
  })
}
