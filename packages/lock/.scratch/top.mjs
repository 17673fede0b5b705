import fs from 'node:fs'
const f = fs.readdirSync('.').find(x => x.endsWith('.cpuprofile'))
const p = JSON.parse(fs.readFileSync(f))
const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]))
const dt = {}; p.samples.forEach((id, i) => { dt[id] = (dt[id] ?? 0) + (p.timeDeltas[i] ?? 0) })
let total = 0
for (const n of p.nodes) { const t = dt[n.id] ?? 0; total += t; const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber}`; self.set(k, (self.get(k) ?? 0) + t) }
console.log('total ms', (total / 1000).toFixed(0))
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log((v / total * 100).toFixed(1).padStart(5), k)
