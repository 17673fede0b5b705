import { readFileSync } from 'node:fs'

/** A row of a package's SCRIPTS table (the shape of LuaScript in @redkit/core/kit). */
export interface ScriptRow {
  readonly name: string
  readonly keys: number | undefined
  readonly lua: string
}

interface Slots {
  fixed: Set<number>
  /** Open tails, `ARGV[8..]`: every index from there on. */
  from: number[]
}

const SLOT = (kind: 'KEYS' | 'ARGV'): RegExp => new RegExp(`\\b${kind}\\[(\\d+)(\\.\\.)?\\]`, 'g')

function documented (doc: string, kind: 'KEYS' | 'ARGV'): Slots {
  const slots: Slots = { fixed: new Set(), from: [] }
  for (const line of doc.split('\n')) {
    const m = new RegExp(`^\\s*\\*?\\s*${kind}\\[(\\d+)(\\.\\.)?\\]\\s*=`).exec(line)
    if (m === null) continue
    if (m[2] === undefined) slots.fixed.add(Number(m[1]))
    else slots.from.push(Number(m[1]))
  }
  return slots
}

function used (lua: string, kind: 'KEYS' | 'ARGV'): number[] {
  const code = lua.replace(/--[^\n]*/g, '')
  return [...new Set([...code.matchAll(SLOT(kind))].map((m) => Number(m[1])))].sort((a, b) => a - b)
}

const covers = (slots: Slots, n: number): boolean => slots.fixed.has(n) || slots.from.some((from) => n >= from)

function docOf (sources: string[], constant: string): string | undefined {
  const re = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*(?:export )?const ${constant}\\b`)
  for (const source of sources) {
    const m = re.exec(source)
    if (m !== null) return m[1]
  }
  return undefined
}

/**
 * Where a package's scripts and their doc comments disagree, one line per
 * problem. Each script's constant (found among `exports` by its text) must
 * have a comment block right above it in one of `files`, with lines
 * `KEYS[i] = ...`, `ARGV[i] = ...` (or `ARGV[i..] = ...` for a variable tail)
 * and `returns = ...`. A fixed key count must be exactly the KEYS documented,
 * and every literal KEYS[n] and ARGV[n] the Lua text reads must be documented.
 */
export function scriptDocProblems (scripts: Record<string, ScriptRow>, exports: Record<string, unknown>, files: Array<string | URL>): string[] {
  const sources = files.map((file) => readFileSync(file, 'utf8'))
  const problems: string[] = []
  for (const [row, script] of Object.entries(scripts)) {
    const constant = Object.keys(exports).find((name) => exports[name] === script.lua)
    const doc = constant === undefined ? undefined : docOf(sources, constant)
    if (constant === undefined || doc === undefined) {
      problems.push(`${row}: no exported constant with a doc comment holds its text`)
      continue
    }
    const keys = documented(doc, 'KEYS')
    const argv = documented(doc, 'ARGV')
    if (!/^\s*\*?\s*returns\s*=/m.test(doc)) problems.push(`${constant}: no "returns =" line`)
    if (script.keys !== undefined) {
      const expected = Array.from({ length: script.keys }, (_, i) => i + 1)
      const listed = [...keys.fixed].sort((a, b) => a - b)
      if (keys.from.length > 0 || listed.join() !== expected.join()) {
        problems.push(`${constant}: declares ${script.keys} keys, documents KEYS[${listed.join(', ')}]${keys.from.length > 0 ? ' and a variable tail' : ''}`)
      }
    } else if (keys.fixed.size === 0 && keys.from.length === 0) {
      problems.push(`${constant}: a variable key count, and no KEYS documented`)
    }
    for (const n of used(script.lua, 'KEYS')) {
      if (!covers(keys, n)) problems.push(`${constant}: reads KEYS[${n}], not documented`)
    }
    for (const n of used(script.lua, 'ARGV')) {
      if (!covers(argv, n)) problems.push(`${constant}: reads ARGV[${n}], not documented`)
    }
  }
  return problems
}
