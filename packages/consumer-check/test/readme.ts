// Code blocks of the package READMEs that the consumer app compiles as written,
// taken from the README inside each packed tarball. Names a block leaves to the
// reader (a database, the user's own functions) are declared after it.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Snippet {
  /** Package directory name under packages/. */
  pkg: string
  /** Index among the README's ```ts and ```js blocks. */
  block: number
  /** Declarations appended to the block. */
  declarations?: string
}

const APP = "import type { FastifyInstance } from 'fastify'\ndeclare const app: FastifyInstance"
const DB = `declare const db: {
  users: {
    find (id: string | number): Promise<{ id: number, name: string } | undefined>
    all (): Promise<Array<{ id: number, name: string }>>
    insert (row: unknown): Promise<{ id: number }>
    update (id: number, patch: { name: string }): Promise<void>
  }
}`

export const SNIPPETS: Snippet[] = [
  { pkg: 'core', block: 0 },
  { pkg: 'session', block: 0 },
  { pkg: 'session', block: 2, declarations: `${APP}\nimport type {} from '@redkit/session'` },
  {
    pkg: 'lock',
    block: 0,
    declarations: `declare function buildReport (opts: { signal: AbortSignal, fencingToken: unknown }): Promise<void>
declare const db: { update (row: { id: number, fencingToken: unknown }): Promise<void> }
declare function render (signal: AbortSignal): Promise<void>
declare function pay (id: string, fencingToken: unknown): Promise<{ paid: boolean }>`
  },
  { pkg: 'pubsub', block: 0 },
  { pkg: 'pubsub', block: 1, declarations: APP },
  { pkg: 'rate-limit', block: 0, declarations: "import type { FastifyReply } from 'fastify'\ndeclare const id: string\ndeclare const reply: FastifyReply" },
  { pkg: 'cache', block: 0, declarations: DB },
  { pkg: 'cache', block: 2, declarations: DB },
  { pkg: 'admin', block: 0 }
]

/** The ```ts and ```js blocks of a README, in order. */
export function codeBlocks (markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:ts|js|typescript|javascript)\s*\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
}

/** Source files for the snippets, read from the installed packages' READMEs. */
export function snippetFiles (nodeModules: string): Map<string, string> {
  const files = new Map<string, string>()
  for (const { pkg, block, declarations } of SNIPPETS) {
    const readme = readFileSync(join(nodeModules, '@redkit', pkg, 'README.md'), 'utf8')
    const code = codeBlocks(readme)[block]
    if (code === undefined) throw new Error(`@redkit/${pkg} README has no code block #${block}`)
    const header = `// @redkit/${pkg} README.md, code block #${block}, as written.\n`
    const footer = declarations ? `\n// Left to the reader in the README:\n${declarations}\n` : ''
    files.set(`readme-${pkg}-${block}.ts`, `${header}${code}${footer}\nexport {}\n`)
  }
  return files
}
