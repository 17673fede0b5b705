import { RedkitInvalidOptionError } from './errors.js'

/*
 * How a package shows itself to an admin surface (e.g. @redkit/admin) without
 * the admin knowing it: its stats and their JSON Schema, the Prometheus
 * series read from them, and a dashboard panel. Packages hand one to
 * `app.redkit.describe()` when they register; admins read them back with
 * `app.redkit.descriptions()` once the app is ready.
 */

/** One Prometheus sample: its labels and value. */
export type RedkitSample = [labels: Record<string, string>, value: number]

export interface RedkitMetricDescription<S = unknown> {
  /** Full metric name, e.g. 'redkit_widgets_spins_total' (counters end in _total). */
  name: string
  type: 'counter' | 'gauge'
  help: string
  labelNames?: string[]
  /** Reads the samples from one stats snapshot, taken at scrape time. */
  read: (stats: S) => RedkitSample[]
}

/** A value of the panel, read from the stats by a dotted path ('total.hits'). */
export interface RedkitPanelValue {
  label: string
  path: string
  /** How to show it; 'number' by default. */
  format?: 'number' | 'percent' | 'bytes' | 'text'
}

/** A table of the panel: one row per entry of the object or array at `path`. */
export interface RedkitPanelTable {
  title?: string
  path: string
  /** Header of the key column when `path` leads to an object (its keys become the first column). */
  keyLabel?: string
  columns: RedkitPanelValue[]
  empty?: string
}

export interface RedkitPanelDescription {
  title: string
  values?: RedkitPanelValue[]
  tables?: RedkitPanelTable[]
}

export interface RedkitDescription<S = unknown> {
  /** Short name, used in URLs (/packages/<name>/stats): lowercase letters, digits and dashes. */
  name: string
  /** The npm package, e.g. '@redkit/cache'. */
  package: string
  /** This instance's stats, read on demand; cheap and synchronous. */
  stats: () => S
  /** JSON Schema of what `stats()` returns: admin serializes with it, so fields it omits are not sent. */
  statsSchema: Record<string, unknown>
  metrics?: Array<RedkitMetricDescription<S>>
  panel?: RedkitPanelDescription
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

function check (d: RedkitDescription<any>): void {
  if (d === null || typeof d !== 'object') throw new RedkitInvalidOptionError('describe() takes a description object')
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    throw new RedkitInvalidOptionError(`describe(): name must match ${String(NAME)}, got ${JSON.stringify(d.name)}`)
  }
  if (typeof d.package !== 'string' || d.package === '') throw new RedkitInvalidOptionError(`describe(${d.name}): package must be a non-empty string`)
  if (typeof d.stats !== 'function') throw new RedkitInvalidOptionError(`describe(${d.name}): stats must be a function`)
  if (d.statsSchema === null || typeof d.statsSchema !== 'object') throw new RedkitInvalidOptionError(`describe(${d.name}): statsSchema must be a JSON Schema object`)
  for (const m of d.metrics ?? []) {
    if (typeof m.name !== 'string' || !METRIC.test(m.name)) throw new RedkitInvalidOptionError(`describe(${d.name}): invalid metric name ${JSON.stringify(m.name)}`)
    if (m.type !== 'counter' && m.type !== 'gauge') throw new RedkitInvalidOptionError(`describe(${d.name}): metric ${m.name} must be a counter or a gauge`)
    if (typeof m.read !== 'function' || typeof m.help !== 'string') throw new RedkitInvalidOptionError(`describe(${d.name}): metric ${m.name} needs help and read`)
  }
}

/** The descriptions handed to one redkit instance, by name. */
export class Descriptions {
  readonly #byName = new Map<string, RedkitDescription<any>>()

  add<S>(description: RedkitDescription<S>): void {
    check(description)
    if (this.#byName.has(description.name)) {
      throw new RedkitInvalidOptionError(`describe(): ${description.name} is already described (by ${this.#byName.get(description.name)!.package})`)
    }
    this.#byName.set(description.name, description)
  }

  list (): Array<RedkitDescription<unknown>> {
    return [...this.#byName.values()]
  }
}
