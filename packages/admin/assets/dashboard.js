/* global document, location, sessionStorage, fetch, setInterval, clearInterval, setTimeout */
// The dashboard script, inlined into the page and allowed by its hash (see src/dashboard.ts).
// Plain ES5 in one IIFE: no build step, no modules, nothing fetched but the admin API.
(function () {
  'use strict'
  const base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/'
  const KEY = 'redkitAdminToken'
  let token = sessionStorage.getItem(KEY) || ''
  let timer = null
  let packages = {}
  let cursor = null
  let userFilter = ''
  let pagesLoaded = 0
  const $ = function (id) { return document.getElementById(id) }

  function el (tag, attrs) {
    const node = document.createElement(tag)
    if (attrs) {
      for (const k in attrs) {
        if (k === 'text') node.textContent = attrs[k]
        else if (k === 'className') node.className = attrs[k]
        else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), attrs[k])
        else node.setAttribute(k, attrs[k])
      }
    }
    for (let i = 2; i < arguments.length; i++) {
      const child = arguments[i]
      if (child === null || child === undefined) continue
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
    }
    return node
  }

  function Unauthorized () {}

  function api (path, method) {
    const headers = {}
    if (token) headers.authorization = 'Bearer ' + token
    return fetch(base + path, { method: method || 'GET', headers, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) throw new Unauthorized()
        return res.json().then(function (body) {
          if (!res.ok) throw new Error((body && body.message) || ('HTTP ' + res.status))
          return body
        })
      })
  }

  function bytes (n) {
    n = Number(n)
    if (!isFinite(n)) return '–'
    const units = ['B', 'KB', 'MB', 'GB', 'TB']
    let i = 0
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i]
  }
  function when (ms) { return ms ? new Date(ms).toLocaleString() : '–' }
  function duration (s) {
    s = Number(s)
    if (!isFinite(s)) return '–'
    if (s < 60) return s + ' s'
    if (s < 3600) return Math.floor(s / 60) + ' min'
    if (s < 86400) return Math.floor(s / 3600) + ' h'
    return Math.floor(s / 86400) + ' d'
  }
  function pct (x) { return isFinite(x) ? (x * 100).toFixed(1) + ' %' : '–' }

  function table (target, head, rows, emptyText) {
    const box = $(target)
    box.textContent = ''
    if (rows.length === 0) { box.appendChild(el('div', { className: 'empty', text: emptyText })); return }
    const thead = el('tr')
    head.forEach(function (h) { thead.appendChild(el('th', { text: h })) })
    const tbody = el('tbody')
    rows.forEach(function (r) { tbody.appendChild(r) })
    box.appendChild(el('div', { className: 'scroll' }, el('table', null, el('thead', null, thead), tbody)))
  }

  function cell (text, className) { return el('td', className ? { className, text } : { text }) }

  function card (title, value, sub) {
    return el('div', { className: 'card' }, el('h3', { text: title }), el('div', { className: 'value', text: value }),
      el('div', { className: 'sub', text: sub || '' }))
  }

  function showLogin (message) {
    stop()
    $('app').hidden = true
    $('login').hidden = false
    $('signout').hidden = true
    $('login-error').textContent = message || ''
    $('token').focus()
  }

  function showApp () {
    $('login').hidden = true
    $('app').hidden = false
    $('signout').hidden = !token
  }

  function fail (err) {
    if (err instanceof Unauthorized) {
      // Without a token the 401 only means "not signed in yet" (or no admin cookie): nothing was refused.
      const refused = token !== ''
      sessionStorage.removeItem(KEY); token = ''
      showLogin(refused ? 'Sign in again: the token was refused.' : '')
      return
    }
    $('status-line').textContent = 'Last error: ' + err.message
  }

  function renderOverview (o) {
    packages = o.packages || {}
    const status = $('status')
    status.textContent = o.health.status === 'ok' ? 'healthy' : 'down'
    status.className = 'badge ' + (o.health.status === 'ok' ? 'ok' : 'bad')
    $('mode').textContent = o.mode + (o.cluster ? ' cluster' : '')
    const cards = $('cards')
    cards.textContent = ''
    cards.appendChild(card('Backend', o.mode + (o.cluster ? ' · cluster' : ''), 'prefix ' + o.prefix))
    cards.appendChild(card('Ping', o.health.status === 'ok' ? o.health.latencyMs + ' ms' : 'down', o.health.error || 'Redis round trip'))
    cards.appendChild(card('Commands', o.stats.commands, o.stats.errors + ' errors · ' + o.stats.timeouts + ' timeouts'))
    cards.appendChild(card('Reconnects', o.stats.reconnects, 'connection ' + o.stats.status))
    cards.appendChild(card('Sessions', '…', 'loading'))
    ;['sessions', 'locks', 'pubsub', 'cache', 'slowlog'].forEach(function (name) {
      const panel = $('panel-' + name)
      if (panel) panel.hidden = name === 'slowlog' ? o.mode !== 'redis' : !packages[name]
    })
    $('panel-rateLimit').hidden = !packages.rateLimit
    $('panel-redis').hidden = o.mode !== 'redis'
  }

  function renderSessionStats (s) {
    const cards = $('cards')
    const last = cards.lastChild
    if (last) cards.replaceChild(card('Sessions', s.sessions, s.users + ' users indexed'), last)
  }

  function renderInfo (body) {
    const rows = body.nodes.map(function (n) {
      const s = n.sections || {}
      const server = s.server || {}; const clients = s.clients || {}; const memory = s.memory || {}; const stats = s.stats || {}
      let keys = 0
      Object.keys(s.keyspace || {}).forEach(function (db) { const m = /keys=(\d+)/.exec(s.keyspace[db]); if (m) keys += Number(m[1]) })
      const hits = Number(stats.keyspace_hits || 0); const misses = Number(stats.keyspace_misses || 0)
      if (n.error) return el('tr', null, cell(n.node, 'mono'), el('td', { colspan: '8', className: 'wrap', text: n.error }))
      return el('tr', null, cell(n.node, 'mono'), cell(n.role || '–'), cell(server.redis_version || '–'),
        cell(duration(server.uptime_in_seconds)), cell(clients.connected_clients || '–'), cell(bytes(memory.used_memory)),
        cell(stats.instantaneous_ops_per_sec || '0'), cell(hits + misses > 0 ? pct(hits / (hits + misses)) : '–'), cell(keys))
    })
    table('redis', ['Node', 'Role', 'Version', 'Uptime', 'Clients', 'Memory', 'Ops/s', 'Hit rate', 'Keys'], rows, 'No nodes.')
  }

  function revokeButton (id, row) {
    const button = el('button', { className: 'danger', type: 'button', 'data-session': id, text: 'Revoke' })
    let armed = false
    button.addEventListener('click', function () {
      if (!armed) {
        armed = true
        button.textContent = 'Confirm'
        button.className = 'danger armed'
        setTimeout(function () { if (armed && button.isConnected) { armed = false; button.textContent = 'Revoke'; button.className = 'danger' } }, 4000)
        return
      }
      button.disabled = true
      api('sessions/' + encodeURIComponent(id), 'DELETE').then(function () {
        row.remove()
        $('status-line').textContent = 'Session ' + id.slice(0, 8) + '… revoked.'
        api('sessions/stats').then(renderSessionStats).catch(fail)
      }).catch(function (err) { button.disabled = false; fail(err) })
    })
    return button
  }

  function sessionRow (s) {
    const row = el('tr', { 'data-session-row': s.sessionId })
    row.appendChild(cell(s.sessionId.slice(0, 12) + '…', 'mono'))
    row.appendChild(cell(s.userId || '–'))
    row.appendChild(cell(when(s.created)))
    row.appendChild(cell(when(s.expires)))
    row.appendChild(cell(s.ip || '–', 'mono'))
    row.appendChild(cell(s.userAgent || '–', 'wrap'))
    row.appendChild(el('td', null, revokeButton(s.sessionId, row)))
    row.firstChild.title = s.sessionId
    return row
  }

  function loadSessions (more) {
    let path
    if (userFilter) path = 'users/' + encodeURIComponent(userFilter) + '/sessions'
    else path = 'sessions?limit=50' + (more && cursor ? '&cursor=' + encodeURIComponent(cursor) : '')
    return api(path).then(function (body) {
      const tbody = $('sessions-body')
      if (!more) { tbody.textContent = ''; pagesLoaded = 0 }
      pagesLoaded++
      body.sessions.forEach(function (s) { tbody.appendChild(sessionRow(s)) })
      cursor = body.nextCursor || null
      $('sessions-more-box').hidden = !cursor
      $('sessions-empty').hidden = tbody.childNodes.length > 0
    })
  }

  function renderLocks (body) {
    table('locks', ['Name', 'Kind', 'Holders', 'Token', 'Lease left'], body.locks.map(function (l) {
      return el('tr', null, cell(l.name, 'mono'), cell(l.kind), cell(l.holders.length), cell(l.token), cell(Math.round(l.ttl) + ' ms'))
    }), 'No lock is held.')
  }

  function renderPubsub (p) {
    const rows = p.channels.map(function (c) { return el('tr', null, cell(c.channel, 'mono'), cell('channel'), cell(c.subscribers)) })
      .concat(p.patterns.map(function (c) { return el('tr', null, cell(c.pattern, 'mono'), cell('pattern'), cell(c.subscribers)) }))
    table('pubsub', ['Channel', 'Kind', 'Subscribers'], rows, 'No subscriptions on this instance.')
    $('pubsub-counters').textContent = 'published ' + p.published + ' · received ' + p.received + ' · gaps ' + p.gaps +
      ' (' + p.missed + ' missed) · SSE clients ' + p.sseClients
  }

  function renderCache (c) {
    const rows = Object.keys(c.namespaces).map(function (ns) {
      const n = c.namespaces[ns]
      return el('tr', null, cell(ns, 'mono'), cell(n.hits), cell(n.misses), cell(pct(n.hitRate)), cell(n.loaderRuns), cell(n.errors))
    })
    table('cache', ['Namespace', 'Hits', 'Misses', 'Hit rate', 'Loads', 'Errors'], rows, 'No cache reads yet.')
  }

  function renderSlowlog (body) {
    const rows = []
    body.nodes.forEach(function (n) {
      (n.entries || []).slice(0, 20).forEach(function (e) {
        rows.push(el('tr', null, cell(n.node, 'mono'), cell(new Date(e.timestamp * 1000).toLocaleTimeString()), cell(e.command, 'mono'),
          cell(e.argCount), cell((e.durationMicros / 1000).toFixed(2) + ' ms')))
      })
    })
    table('slowlog', ['Node', 'At', 'Command', 'Args', 'Duration'], rows, 'The slow log is empty.')
  }

  // Panels of the packages that described themselves (GET packages): values and tables read by path from their stats.
  function pick (obj, path) {
    return String(path).split('.').reduce(function (o, k) { return o === null || o === undefined ? undefined : o[k] }, obj)
  }
  function show (value, format) {
    if (value === null || value === undefined) return '–'
    if (format === 'percent') return pct(Number(value))
    if (format === 'bytes') return bytes(value)
    return typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  function describedTable (spec, stats) {
    const data = pick(stats, spec.path)
    const keyed = data !== null && typeof data === 'object' && !Array.isArray(data)
    let entries = []
    if (Array.isArray(data)) entries = data.map(function (v) { return [null, v] })
    else if (keyed) entries = Object.keys(data).map(function (k) { return [k, data[k]] })
    const head = (keyed ? [spec.keyLabel || 'Name'] : []).concat(spec.columns.map(function (c) { return c.label }))
    const id = 'described-table-' + Math.random().toString(36).slice(2)
    const box = el('div', { id })
    const rows = entries.map(function (e) {
      const row = el('tr')
      if (keyed) row.appendChild(cell(e[0], 'mono'))
      spec.columns.forEach(function (c) { row.appendChild(cell(show(pick(e[1], c.path), c.format))) })
      return row
    })
    return { box, fill: function () { table(id, head, rows, spec.empty || 'Nothing yet.') } }
  }
  function describedPanel (d, stats) {
    const panel = d.panel || { title: d.package }
    const section = el('section', { className: 'panel', 'data-package': d.name }, el('h2', { text: panel.title }))
    if (panel.values && panel.values.length) {
      const cards = el('div', { className: 'cards' })
      panel.values.forEach(function (v) { cards.appendChild(card(v.label, show(pick(stats, v.path), v.format), d.package)) })
      section.appendChild(cards)
    }
    const fills = []
    ;(panel.tables || []).forEach(function (spec) {
      const t = describedTable(spec, stats)
      if (spec.title) section.appendChild(el('h3', { text: spec.title }))
      section.appendChild(t.box)
      fills.push(t.fill)
    })
    return { section, fills }
  }
  function loadDescribed () {
    return api('packages').then(function (body) {
      return Promise.all(body.packages.map(function (d) {
        return api('packages/' + encodeURIComponent(d.name) + '/stats').then(function (stats) { return describedPanel(d, stats) })
      }))
    }).then(function (panels) {
      const box = $('described')
      box.textContent = ''
      panels.forEach(function (p) { box.appendChild(p.section); p.fills.forEach(function (f) { f() }) })
    })
  }

  function refresh () {
    return api('overview').then(function (o) {
      showApp()
      renderOverview(o)
      const jobs = []
      if (o.mode === 'redis') {
        jobs.push(api('redis/info').then(renderInfo))
        jobs.push(api('redis/slowlog?count=20').then(renderSlowlog))
      }
      if (packages.sessions) {
        jobs.push(api('sessions/stats').then(renderSessionStats))
        if (pagesLoaded <= 1) jobs.push(loadSessions(false))
      }
      if (packages.locks) jobs.push(api('locks').then(renderLocks))
      if (packages.pubsub) jobs.push(api('pubsub').then(renderPubsub))
      if (packages.cache) jobs.push(api('cache/stats').then(renderCache))
      jobs.push(loadDescribed())
      return Promise.all(jobs)
    }).then(function () {
      $('status-line').textContent = 'Updated ' + new Date().toLocaleTimeString()
    }).catch(fail)
  }

  function start () {
    stop()
    if ($('live').checked) timer = setInterval(refresh, 5000)
  }
  function stop () { if (timer) { clearInterval(timer); timer = null } }

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault()
    token = $('token').value.trim()
    $('token').value = ''
    api('overview').then(function () {
      sessionStorage.setItem(KEY, token)
      return refresh().then(start)
    }).catch(function (err) {
      token = ''
      showLogin(err instanceof Unauthorized ? 'That token was refused.' : err.message)
    })
  })
  $('signout').addEventListener('click', function () { sessionStorage.removeItem(KEY); token = ''; showLogin('') })
  $('live').addEventListener('change', start)
  $('refresh').addEventListener('click', refresh)
  $('sessions-more').addEventListener('click', function () { loadSessions(true).catch(fail) })
  $('user-form').addEventListener('submit', function (event) {
    event.preventDefault()
    userFilter = $('user').value.trim()
    loadSessions(false).catch(fail)
  })
  $('cleanup').addEventListener('click', function () {
    api('sessions/cleanup', 'POST').then(function (r) {
      $('status-line').textContent = 'Cleanup: ' + r.removed + ' stale index entries removed of ' + r.entries + '.'
    }).catch(fail)
  })
  $('cache-form').addEventListener('submit', function (event) {
    event.preventDefault()
    const tag = $('cache-tag').value.trim()
    if (!tag) return
    api('cache?tag=' + encodeURIComponent(tag), 'DELETE').then(function (r) {
      $('status-line').textContent = 'Invalidated ' + r.removed + ' cache entries tagged ' + tag + '.'
    }).catch(fail)
  })
  $('rl-form').addEventListener('submit', function (event) {
    event.preventDefault()
    const key = $('rl-key').value.trim()
    if (!key) return
    const reset = event.submitter && event.submitter.value === 'reset'
    api('rate-limit/' + encodeURIComponent(key), reset ? 'DELETE' : 'GET').then(function (r) {
      $('rl-result').textContent = reset
        ? 'Key reset.'
        : (r.allowed ? 'allowed' : 'limited') + ' · ' + r.remaining + ' of ' + r.limit +
        ' left · resets ' + new Date(r.resetAt).toLocaleTimeString()
    }).catch(fail)
  })

  refresh().then(function () { if (!$('app').hidden) start() })
})()
