import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

/*
 * The README's walkthrough is the test's script: its ```sh blocks are run in
 * order by one bash, so variables and the cookie jar carry over as they do
 * for a reader. A command's output is shown on the lines after it that start
 * with "# → " ("…" stands for anything); a command ending in "&" runs in the
 * background, its output is kept apart and checked after the script ends.
 */

export interface Step {
  command: string
  background: boolean
  expected: string[]
}

const ARROW = '# → '

/** The ```sh blocks under the given "## " heading, as lists of lines. */
export function shellBlocks (markdown: string, heading: string): string[][] {
  const at = markdown.indexOf(`\n${heading}\n`)
  if (at < 0) throw new Error(`README has no "${heading}" section`)
  const rest = markdown.slice(at + heading.length + 2)
  const next = rest.search(/\n## /)
  const section = next < 0 ? rest : rest.slice(0, next)
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter((line) => line.trim() !== ''))
}

export function parseSteps (lines: string[]): Step[] {
  const steps: Step[] = []
  for (const raw of lines) {
    const line = raw.trim()
    if (line.startsWith(ARROW)) {
      const last = steps.at(-1)
      if (last === undefined) throw new Error(`output shown before any command: ${line}`)
      last.expected.push(line.slice(ARROW.length))
      continue
    }
    if (line.startsWith('#')) continue
    const background = /&\s*$/.test(line)
    steps.push({ command: background ? line.replace(/&\s*$/, '').trim() : line, background, expected: [] })
  }
  return steps
}

const MARK = '@@walkthrough-step'

function script (steps: Step[]): string {
  const out = ['set -e']
  steps.forEach((step, i) => {
    out.push(`printf '\\n${MARK} ${i}\\n'`)
    out.push(step.background ? `( ${step.command} ) > bg-${i}.out 2>&1 &` : step.command)
  })
  // Background commands of the README end by themselves (--max-time, a job's run); wait for stragglers.
  out.push('wait', `printf '\\n${MARK} end\\n'`)
  return out.join('\n') + '\n'
}

export interface Run {
  outputs: string[]
  stderr: string
  code: number | null
}

/** Runs the steps with bash in `cwd`; the output of each step, background ones read from their files. */
export async function runSteps (steps: Step[], cwd: string, env: Record<string, string>): Promise<Run> {
  // stdin not a socket: bash would take itself for an rsh session and read ~/.bashrc.
  const child = spawn('bash', ['-c', script(steps)], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  const outputs = steps.map(() => '')
  const parts = stdout.split(new RegExp(`\\n${MARK} `))
  for (const part of parts.slice(1)) {
    const newline = part.indexOf('\n')
    const index = Number(part.slice(0, newline < 0 ? undefined : newline))
    if (Number.isInteger(index)) outputs[index] = newline < 0 ? '' : part.slice(newline + 1)
  }
  steps.forEach((step, i) => {
    if (step.background) {
      try { outputs[i] = readFileSync(`${cwd}/bg-${i}.out`, 'utf8') } catch { outputs[i] = '' }
    }
  })
  return { outputs, stderr, code: stdout.includes(`${MARK} end`) ? code : (code ?? -1) }
}

function pattern (shown: string): RegExp {
  const parts = shown.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`)
}

/** The shown lines that are missing, in order, from the output of a step. */
export function missing (expected: string[], output: string): string[] {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '')
  const left: string[] = []
  let from = 0
  for (const shown of expected) {
    const re = pattern(shown)
    const found = lines.findIndex((line, i) => i >= from && re.test(line))
    if (found < 0) left.push(shown)
    else from = found + 1
  }
  return left
}
