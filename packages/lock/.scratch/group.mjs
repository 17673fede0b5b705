import fs from 'node:fs'
const f = fs.readdirSync('.').find(x => x.endsWith('.cpuprofile'))
const p = JSON.parse(fs.readFileSync(f))
const dt = {}; p.samples.forEach((id, i) => { dt[id] = (dt[id] ?? 0) + (p.timeDeltas[i] ?? 0) })
const g = new Map(); let total = 0
for (const n of p.nodes) { const t = dt[n.id] ?? 0; if (n.callFrame.functionName === '(idle)') continue; total += t
  const u = n.callFrame.url; const k = u.includes('/ioredis/') ? 'ioredis' : u.includes('/lock/dist') ? 'lock' : u.includes('/core/dist') ? 'core' : u.includes('@ioredis/') || u.includes('redis-parser') || u.includes('resp/') ? 'parser' : u.startsWith('node:') ? 'node-internal' : u === '' ? n.callFrame.functionName : 'other:' + u.split('/').slice(-2).join('/')
  g.set(k, (g.get(k) ?? 0) + t) }
for (const [k, v] of [...g].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log((v / total * 100).toFixed(1).padStart(5), k)
