import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/*
 * The dashboard is one static page: assets/dashboard.html with
 * assets/dashboard.css and assets/dashboard.js inlined into it, read once when
 * the plugin registers (the assets ship in the package next to dist). It holds
 * no data; everything is fetched with the Bearer token typed into its login
 * form, kept in sessionStorage (never in the URL), or with the cookies a
 * cookie-based `auth` reads. All text from the server is inserted with
 * textContent, since user agents and ids are attacker-controlled.
 */

const ASSETS = new URL('../assets/', import.meta.url)
const STYLE_SLOT = '<!-- dashboard.css is inlined here at startup -->'
const SCRIPT_SLOT = '<!-- dashboard.js is inlined here at startup -->'

export interface DashboardPage {
  html: string
  /** Content-Security-Policy allowing exactly the inline style and script of the page. */
  csp: string
}

function sha256 (text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

function asset (name: string): string {
  return readFileSync(new URL(name, ASSETS), 'utf8')
}

function inline (html: string, slot: string, element: string): string {
  const at = html.indexOf(slot)
  if (at < 0) throw new Error(`@redkit/admin: assets/dashboard.html lacks "${slot}"`)
  return html.slice(0, at) + element + html.slice(at + slot.length)
}

export function dashboardPage (): DashboardPage {
  const style = asset('dashboard.css')
  const script = asset('dashboard.js')
  let html = inline(asset('dashboard.html'), STYLE_SLOT, `<style>${style}</style>`)
  html = inline(html, SCRIPT_SLOT, `<script>${script}</script>`)
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
  return { html, csp }
}
