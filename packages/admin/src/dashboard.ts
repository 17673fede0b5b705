import { createHash } from 'node:crypto'

/*
 * The dashboard is one static page: the styles and script below are inlined,
 * so it ships inside dist with no build step or asset route. It holds no data;
 * everything is fetched with the Bearer token typed into its login form, kept
 * in sessionStorage (never in the URL). All text from the server is inserted
 * with textContent, since user agents and ids are attacker-controlled.
 */

const STYLE = `
:root { --bg: #f5f6f8; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --accent: #c8102e;
  --ok: #12805c; --bad: #b42318; --warn: #b54708; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font-size: 14px; line-height: 1.45; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #1d2330; color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; letter-spacing: .2px; }
header h1 span { color: #ff5a6e; }
header .grow { flex: 1; }
header label { display: flex; align-items: center; gap: 6px; font-size: 13px; color: #d0d5dd; }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #eef0f3; color: var(--ink); }
.badge.ok { background: #d1fadf; color: var(--ok); } .badge.bad { background: #fee4e2; color: var(--bad); }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card h3 { margin: 0 0 4px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .5px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .sub { color: var(--muted); font-size: 12px; }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; margin-bottom: 16px; overflow: hidden; }
section.panel > h2 { font-size: 15px; margin: 0; padding: 12px 16px; border-bottom: 1px solid var(--line); display: flex; align-items: center; gap: 10px; }
section.panel > h2 .grow { flex: 1; }
section.panel > h2 input, section.panel > h2 button, section.panel > h2 .muted { font-size: 13px; font-weight: 400; }
.more { padding: 10px 16px; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 16px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.wrap { white-space: normal; word-break: break-word; max-width: 360px; }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
tr:last-child td { border-bottom: 0; }
.empty { padding: 14px 16px; color: var(--muted); }
button { font: inherit; border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 5px 12px; cursor: pointer; }
button:hover { border-color: #98a2b3; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--bad); border-color: #fda29b; }
button.danger.armed { background: var(--bad); color: #fff; }
input[type=text], input[type=password] { font: inherit; padding: 7px 10px; border: 1px solid #d0d5dd; border-radius: 6px; min-width: 0; }
.row { display: flex; gap: 8px; align-items: center; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
#login { max-width: 420px; margin: 12vh auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 28px; }
#login h2 { margin: 0 0 6px; font-size: 18px; }
#login p { color: var(--muted); margin: 0 0 16px; }
#login form { display: flex; flex-direction: column; gap: 10px; }
.error { color: var(--bad); min-height: 20px; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; text-align: center; }
`

const SCRIPT = `
(function () {
  'use strict'
  var base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/'
  var KEY = 'redkitAdminToken'
  var token = sessionStorage.getItem(KEY) || ''
  var timer = null
  var packages = {}
  var cursor = null
  var userFilter = ''
  var pagesLoaded = 0
  var $ = function (id) { return document.getElementById(id) }

  function el (tag, attrs) {
    var node = document.createElement(tag)
    if (attrs) for (var k in attrs) {
      if (k === 'text') node.textContent = attrs[k]
      else if (k === 'className') node.className = attrs[k]
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), attrs[k])
      else node.setAttribute(k, attrs[k])
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i]
      if (child === null || child === undefined) continue
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
    }
    return node
  }

  function Unauthorized () {}

  function api (path, method) {
    var headers = {}
    if (token) headers.authorization = 'Bearer ' + token
    return fetch(base + path, { method: method || 'GET', headers: headers, credentials: 'same-origin', cache: 'no-store' })
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
    var units = ['B', 'KB', 'MB', 'GB', 'TB']
    var i = 0
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
    var box = $(target)
    box.textContent = ''
    if (rows.length === 0) { box.appendChild(el('div', { className: 'empty', text: emptyText })); return }
    var thead = el('tr')
    head.forEach(function (h) { thead.appendChild(el('th', { text: h })) })
    var tbody = el('tbody')
    rows.forEach(function (r) { tbody.appendChild(r) })
    box.appendChild(el('div', { className: 'scroll' }, el('table', null, el('thead', null, thead), tbody)))
  }

  function cell (text, className) { return el('td', className ? { className: className, text: text } : { text: text }) }

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
      var refused = token !== ''
      sessionStorage.removeItem(KEY); token = ''
      showLogin(refused ? 'Sign in again: the token was refused.' : '')
      return
    }
    $('status-line').textContent = 'Last error: ' + err.message
  }

  function renderOverview (o) {
    packages = o.packages || {}
    var status = $('status')
    status.textContent = o.health.status === 'ok' ? 'healthy' : 'down'
    status.className = 'badge ' + (o.health.status === 'ok' ? 'ok' : 'bad')
    $('mode').textContent = o.mode + (o.cluster ? ' cluster' : '')
    var cards = $('cards')
    cards.textContent = ''
    cards.appendChild(card('Backend', o.mode + (o.cluster ? ' · cluster' : ''), 'prefix ' + o.prefix))
    cards.appendChild(card('Ping', o.health.status === 'ok' ? o.health.latencyMs + ' ms' : 'down', o.health.error || 'Redis round trip'))
    cards.appendChild(card('Commands', o.stats.commands, o.stats.errors + ' errors · ' + o.stats.timeouts + ' timeouts'))
    cards.appendChild(card('Reconnects', o.stats.reconnects, 'connection ' + o.stats.status))
    cards.appendChild(card('Sessions', '…', 'loading'))
    ;['sessions', 'locks', 'pubsub', 'cache', 'slowlog'].forEach(function (name) {
      var panel = $('panel-' + name)
      if (panel) panel.hidden = name === 'slowlog' ? o.mode !== 'redis' : !packages[name]
    })
    $('panel-rateLimit').hidden = !packages.rateLimit
    $('panel-redis').hidden = o.mode !== 'redis'
  }

  function renderSessionStats (s) {
    var cards = $('cards')
    var last = cards.lastChild
    if (last) cards.replaceChild(card('Sessions', s.sessions, s.users + ' users indexed'), last)
  }

  function renderInfo (body) {
    var rows = body.nodes.map(function (n) {
      var s = n.sections || {}
      var server = s.server || {}; var clients = s.clients || {}; var memory = s.memory || {}; var stats = s.stats || {}
      var keys = 0
      Object.keys(s.keyspace || {}).forEach(function (db) { var m = /keys=(\\d+)/.exec(s.keyspace[db]); if (m) keys += Number(m[1]) })
      var hits = Number(stats.keyspace_hits || 0); var misses = Number(stats.keyspace_misses || 0)
      if (n.error) return el('tr', null, cell(n.node, 'mono'), el('td', { colspan: '8', className: 'wrap', text: n.error }))
      return el('tr', null, cell(n.node, 'mono'), cell(n.role || '–'), cell(server.redis_version || '–'),
        cell(duration(server.uptime_in_seconds)), cell(clients.connected_clients || '–'), cell(bytes(memory.used_memory)),
        cell(stats.instantaneous_ops_per_sec || '0'), cell(hits + misses > 0 ? pct(hits / (hits + misses)) : '–'), cell(keys))
    })
    table('redis', ['Node', 'Role', 'Version', 'Uptime', 'Clients', 'Memory', 'Ops/s', 'Hit rate', 'Keys'], rows, 'No nodes.')
  }

  function revokeButton (id, row) {
    var button = el('button', { className: 'danger', type: 'button', 'data-session': id, text: 'Revoke' })
    var armed = false
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
    var row = el('tr', { 'data-session-row': s.sessionId })
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
    var path
    if (userFilter) path = 'users/' + encodeURIComponent(userFilter) + '/sessions'
    else path = 'sessions?limit=50' + (more && cursor ? '&cursor=' + encodeURIComponent(cursor) : '')
    return api(path).then(function (body) {
      var tbody = $('sessions-body')
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
    var rows = p.channels.map(function (c) { return el('tr', null, cell(c.channel, 'mono'), cell('channel'), cell(c.subscribers)) })
      .concat(p.patterns.map(function (c) { return el('tr', null, cell(c.pattern, 'mono'), cell('pattern'), cell(c.subscribers)) }))
    table('pubsub', ['Channel', 'Kind', 'Subscribers'], rows, 'No subscriptions on this instance.')
    $('pubsub-counters').textContent = 'published ' + p.published + ' · received ' + p.received + ' · gaps ' + p.gaps +
      ' (' + p.missed + ' missed) · SSE clients ' + p.sseClients
  }

  function renderCache (c) {
    var rows = Object.keys(c.namespaces).map(function (ns) {
      var n = c.namespaces[ns]
      return el('tr', null, cell(ns, 'mono'), cell(n.hits), cell(n.misses), cell(pct(n.hitRate)), cell(n.loaderRuns), cell(n.errors))
    })
    table('cache', ['Namespace', 'Hits', 'Misses', 'Hit rate', 'Loads', 'Errors'], rows, 'No cache reads yet.')
  }

  function renderSlowlog (body) {
    var rows = []
    body.nodes.forEach(function (n) {
      (n.entries || []).slice(0, 20).forEach(function (e) {
        rows.push(el('tr', null, cell(n.node, 'mono'), cell(new Date(e.timestamp * 1000).toLocaleTimeString()), cell(e.command, 'mono'),
          cell(e.argCount), cell((e.durationMicros / 1000).toFixed(2) + ' ms')))
      })
    })
    table('slowlog', ['Node', 'At', 'Command', 'Args', 'Duration'], rows, 'The slow log is empty.')
  }

  function refresh () {
    return api('overview').then(function (o) {
      showApp()
      renderOverview(o)
      var jobs = []
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
    var tag = $('cache-tag').value.trim()
    if (!tag) return
    api('cache?tag=' + encodeURIComponent(tag), 'DELETE').then(function (r) {
      $('status-line').textContent = 'Invalidated ' + r.removed + ' cache entries tagged ' + tag + '.'
    }).catch(fail)
  })
  $('rl-form').addEventListener('submit', function (event) {
    event.preventDefault()
    var key = $('rl-key').value.trim()
    if (!key) return
    var reset = event.submitter && event.submitter.value === 'reset'
    api('rate-limit/' + encodeURIComponent(key), reset ? 'DELETE' : 'GET').then(function (r) {
      $('rl-result').textContent = reset ? 'Key reset.' : (r.allowed ? 'allowed' : 'limited') + ' · ' + r.remaining + ' of ' + r.limit +
        ' left · resets ' + new Date(r.resetAt).toLocaleTimeString()
    }).catch(fail)
  })

  refresh().then(function () { if (!$('app').hidden) start() })
})()
`

const BODY = `
<header>
  <h1><span>red</span>kit admin</h1>
  <span id="status" class="badge">…</span>
  <span id="mode" class="badge"></span>
  <span class="grow"></span>
  <label><input type="checkbox" id="live" checked> Live (5 s)</label>
  <button id="refresh" type="button">Refresh</button>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<div id="login" hidden>
  <h2>Sign in</h2>
  <p>Paste the admin token. It stays in this tab only and is sent as a Bearer header.</p>
  <form id="login-form" autocomplete="off">
    <input id="token" type="password" placeholder="Admin token" aria-label="Admin token" required>
    <button class="primary" type="submit">Sign in</button>
    <div id="login-error" class="error" role="alert"></div>
  </form>
</div>
<main id="app" hidden>
  <div id="cards" class="cards"></div>
  <section class="panel" id="panel-sessions" hidden>
    <h2>Sessions <span class="grow"></span>
      <form id="user-form" class="row"><input id="user" type="text" placeholder="Filter by user id" aria-label="User id"><button type="submit">Filter</button></form>
      <button id="cleanup" type="button">Clean index</button>
    </h2>
    <div class="scroll"><table>
      <thead><tr><th>Session</th><th>User</th><th>Created</th><th>Expires</th><th>IP</th><th>User agent</th><th></th></tr></thead>
      <tbody id="sessions-body"></tbody>
    </table></div>
    <div id="sessions-empty" class="empty" hidden>No sessions.</div>
    <div id="sessions-more-box" class="more" hidden><button id="sessions-more" type="button">Load more</button></div>
  </section>
  <section class="panel" id="panel-redis" hidden><h2>Redis nodes</h2><div id="redis"></div></section>
  <div class="two">
    <section class="panel" id="panel-locks" hidden><h2>Locks</h2><div id="locks"></div></section>
    <section class="panel" id="panel-pubsub" hidden><h2>Pub/sub <span class="grow"></span><span id="pubsub-counters" class="muted"></span></h2><div id="pubsub"></div></section>
    <section class="panel" id="panel-cache" hidden><h2>Cache <span class="grow"></span>
      <form id="cache-form" class="row"><input id="cache-tag" type="text" placeholder="tag" aria-label="Cache tag"><button class="danger" type="submit">Invalidate</button></form></h2>
      <div id="cache"></div></section>
    <section class="panel" id="panel-rateLimit" hidden><h2>Rate limits</h2>
      <form id="rl-form" class="row empty"><input id="rl-key" type="text" placeholder="key, e.g. an IP" aria-label="Rate-limit key">
        <button type="submit" value="peek">Look up</button><button class="danger" type="submit" value="reset">Reset</button></form>
      <div id="rl-result" class="empty mono"></div></section>
  </div>
  <section class="panel" id="panel-slowlog" hidden><h2>Slow log</h2><div id="slowlog"></div></section>
  <footer id="status-line"></footer>
</main>
`

export interface DashboardPage {
  html: string
  /** Content-Security-Policy allowing exactly the inline style and script of the page. */
  csp: string
}

function sha256 (text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

export function dashboardPage (): DashboardPage {
  const html = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,"><title>redkit admin</title>' +
    `<style>${STYLE}</style></head><body>${BODY}<script>${SCRIPT}</script></body></html>\n`
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
  return { html, csp }
}
