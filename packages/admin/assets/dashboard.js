/* global document, location, sessionStorage, fetch, setInterval, clearInterval, setTimeout */
// The dashboard script, inlined into the page and allowed by its hash (see src/dashboard.ts).
// Plain ES5 in one IIFE: no build step, no modules, nothing fetched but the admin API.
(function () {
  'use strict'
  const base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/'
  const KEY = 'redkitAdminToken'
  let token = sessionStorage.getItem(KEY) || ''
  let timer = null
  const panels = {}
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

  function table (box, head, rows, emptyText) {
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
    $('panel-slowlog').hidden = o.mode !== 'redis'
    $('panel-redis').hidden = o.mode !== 'redis'
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
    table($('redis'), ['Node', 'Role', 'Version', 'Uptime', 'Clients', 'Memory', 'Ops/s', 'Hit rate', 'Keys'], rows, 'No nodes.')
  }

  function renderSlowlog (body) {
    const rows = []
    body.nodes.forEach(function (n) {
      (n.entries || []).slice(0, 20).forEach(function (e) {
        rows.push(el('tr', null, cell(n.node, 'mono'), cell(new Date(e.timestamp * 1000).toLocaleTimeString()), cell(e.command, 'mono'),
          cell(e.argCount), cell((e.durationMicros / 1000).toFixed(2) + ' ms')))
      })
    })
    table($('slowlog'), ['Node', 'At', 'Command', 'Args', 'Duration'], rows, 'The slow log is empty.')
  }

  // Panels of the packages that described themselves (GET packages): values and tables read by path
  // from their stats, lists read from their routes, and buttons calling their routes.
  function pick (obj, path) {
    return String(path).split('.').reduce(function (o, k) { return o === null || o === undefined ? undefined : o[k] }, obj)
  }
  function show (value, format) {
    if (value === null || value === undefined) return '–'
    if (format === 'percent') return pct(Number(value))
    if (format === 'bytes') return bytes(value)
    if (format === 'time') return when(value)
    if (format === 'ms') return Math.round(Number(value)) + ' ms'
    return typeof value === 'object' ? JSON.stringify(value) : String(value)
  }
  function route (url, value) {
    return url.slice(1).replace(/:[A-Za-z0-9_]+/, function () { return encodeURIComponent(value) })
  }
  function say (template, reply) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { const v = pick(reply, k); return Array.isArray(v) ? v.join(', ') : show(v) })
  }
  function statsTable (spec, stats, box) {
    const data = pick(stats, spec.path)
    const keyed = data !== null && typeof data === 'object' && !Array.isArray(data)
    let entries = []
    if (Array.isArray(data)) entries = data.map(function (v) { return [null, v] })
    else if (keyed) entries = Object.keys(data).map(function (k) { return [k, data[k]] })
    const head = (keyed ? [spec.keyLabel || 'Name'] : []).concat(spec.columns.map(function (c) { return c.label }))
    table(box, head, entries.map(function (e) {
      const row = el('tr')
      if (keyed) row.appendChild(cell(e[0], 'mono'))
      spec.columns.forEach(function (c) { row.appendChild(cell(show(pick(e[1], c.path), c.format))) })
      return row
    }), spec.empty || 'Nothing yet.')
  }

  function rowButton (d, action, key, row, done) {
    const attrs = { className: 'danger', type: 'button', text: action.label }
    attrs['data-' + d.name] = key
    const button = el('button', attrs)
    let armed = false
    button.addEventListener('click', function () {
      if (!armed) {
        armed = true
        button.textContent = 'Confirm'
        button.className = 'danger armed'
        setTimeout(function () { if (armed && button.isConnected) { armed = false; button.textContent = action.label; button.className = 'danger' } }, 4000)
        return
      }
      button.disabled = true
      api(route(action.url, key), action.method).then(function () {
        row.remove()
        $('status-line').textContent = action.label + ': ' + key.slice(0, 8) + '… done.'
        done()
      }).catch(function (err) { button.disabled = false; fail(err) })
    })
    return button
  }

  function listRow (list, r) {
    const spec = list.spec
    const key = spec.key ? String(pick(r, spec.key)) : null
    const attrs = {}
    if (key !== null) attrs['data-' + list.d.name + '-row'] = key
    const row = el('tr', attrs)
    spec.columns.forEach(function (c) { row.appendChild(cell(show(pick(r, c.path), c.format), c.format === 'text' ? 'wrap' : null)) })
    if (key !== null && spec.rowActions && spec.rowActions.length) {
      const td = el('td')
      spec.rowActions.forEach(function (a) { td.appendChild(rowButton(list.d, a, key, row, list.changed)) })
      row.appendChild(td)
    }
    return row
  }

  function loadList (list, more) {
    const spec = list.spec
    let path
    if (list.filter) path = route(spec.filter.url, list.filter)
    else {
      const q = []
      Object.keys(spec.query || {}).forEach(function (k) { q.push(encodeURIComponent(k) + '=' + encodeURIComponent(spec.query[k])) })
      if (more && list.cursor) q.push('cursor=' + encodeURIComponent(list.cursor))
      path = spec.url.slice(1) + (q.length ? '?' + q.join('&') : '')
    }
    return api(path).then(function (body) {
      if (!more) { list.rows = []; list.pages = 0 }
      list.pages++
      list.rows = list.rows.concat(pick(body, spec.path) || [])
      list.cursor = spec.cursor && !list.filter ? pick(body, spec.cursor) || null : null
      const head = spec.columns.map(function (c) { return c.label }).concat(spec.rowActions && spec.rowActions.length ? [''] : [])
      table(list.box, head, list.rows.map(function (r) { return listRow(list, r) }), spec.empty || 'Nothing yet.')
      list.moreBox.hidden = !list.cursor
    })
  }

  function listPart (d, spec, panel) {
    const list = { d, spec, box: el('div'), moreBox: el('div', { className: 'more', hidden: '' }), rows: [], pages: 0, cursor: null, filter: '' }
    list.changed = function () { refreshPanel(panel) }
    const part = el('div', null)
    const bar = el('h3', { className: 'row' }, spec.title || '')
    if (spec.filter) {
      const input = el('input', { type: 'text', placeholder: spec.filter.label, 'aria-label': spec.filter.label })
      const filter = function (event) {
        event.preventDefault()
        list.filter = input.value.trim()
        loadList(list, false).catch(fail)
      }
      bar.appendChild(el('form', { className: 'row', onsubmit: filter }, input, el('button', { type: 'submit', text: 'Filter' })))
    }
    list.moreBox.appendChild(el('button', { type: 'button', text: 'Load more', onclick: function () { loadList(list, true).catch(fail) } }))
    part.appendChild(bar)
    part.appendChild(list.box)
    part.appendChild(list.moreBox)
    panel.lists.push(list)
    return part
  }

  function actionPart (spec) {
    const input = spec.input ? el('input', { type: 'text', placeholder: spec.input.label, 'aria-label': spec.input.label }) : null
    const submit = function (event) {
      event.preventDefault()
      const value = input ? input.value.trim() : ''
      if (input && !value) return
      const path = input && spec.input.query
        ? spec.url.slice(1) + '?' + encodeURIComponent(spec.input.query) + '=' + encodeURIComponent(value)
        : route(spec.url, value)
      api(path, spec.method).then(function (reply) { $('status-line').textContent = say(spec.done, reply) }).catch(fail)
    }
    return el('form', { className: 'row', onsubmit: submit }, input, el('button', { type: 'submit', className: spec.danger ? 'danger' : '', text: spec.label }))
  }

  function buildPanel (d) {
    const spec = d.panel || { title: d.package }
    const panel = { d, spec, cards: el('div', { className: 'cards' }), tables: [], lists: [] }
    const section = el('section', { className: 'panel', 'data-package': d.name }, el('h2', { text: spec.title }))
    const body = el('div', { className: 'more' }, panel.cards)
    ;(spec.actions || []).forEach(function (a) { body.appendChild(actionPart(a)) })
    ;(spec.tables || []).forEach(function (t) {
      const box = el('div')
      if (t.title) body.appendChild(el('h3', { text: t.title }))
      body.appendChild(box)
      panel.tables.push({ spec: t, box })
    })
    ;(spec.lists || []).forEach(function (l) { body.appendChild(listPart(d, l, panel)) })
    section.appendChild(body)
    $('described').appendChild(section)
    return panel
  }

  function refreshPanel (panel) {
    return api('packages/' + encodeURIComponent(panel.d.name) + '/stats').then(function (stats) {
      panel.cards.textContent = ''
      ;(panel.spec.values || []).forEach(function (v) { panel.cards.appendChild(card(v.label, show(pick(stats, v.path), v.format), panel.d.package)) })
      panel.tables.forEach(function (t) { statsTable(t.spec, stats, t.box) })
    })
  }

  function loadDescribed () {
    return api('packages').then(function (body) {
      return Promise.all(body.packages.map(function (d) {
        const panel = panels[d.name] || (panels[d.name] = buildPanel(d))
        // A list paged further, or filtered, stays as the user left it.
        const lists = panel.lists.filter(function (l) { return l.pages <= 1 && !l.filter }).map(function (l) { return loadList(l, false) })
        return Promise.all([refreshPanel(panel)].concat(lists))
      }))
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

  refresh().then(function () { if (!$('app').hidden) start() })
})()
