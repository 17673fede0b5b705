import type { Redkit, RedkitScript } from '@redkit/core'
import { defineLua } from '@redkit/core/kit'
import type { WriteOp } from './backend.js'
import { SCRIPTS } from './lua.js'

/*
 * The write of an entry, one key per command, for when the namespace's Cluster
 * slot is being migrated: the one-script write declares the entry, its tags
 * and the fill lock, and Redis refuses such a script (TRYAGAIN) for as long as
 * those keys are split between the two masters, while it redirects (ASK)
 * single-key commands. The steps keep the script's guarantees without its
 * atomicity: each tag version is made to outlive the entry before the entry
 * is written, and the entry is stamped with the versions read then, so an
 * invalidation that lands between the steps makes the entry a miss.
 */

export interface SplitScripts {
  keepVersion: RedkitScript<number>
  fileMember: RedkitScript<number>
  writeEntry: RedkitScript<number>
}

export function defineSplitScripts (redkit: Redkit): SplitScripts {
  return {
    keepVersion: defineLua<number>(redkit, SCRIPTS.keepVersion),
    fileMember: defineLua<number>(redkit, SCRIPTS.fileMember),
    writeEntry: defineLua<number>(redkit, SCRIPTS.writeEntry)
  }
}

/**
 * Stores the entry unless a tag moved past the expected version; the caller
 * then releases the fill lock and announces the write, as the script would.
 */
export async function splitWrite (scripts: SplitScripts, op: WriteOp): Promise<boolean> {
  const life = op.ttl + op.staleTtl
  const versions = await Promise.all(op.tags.map(async (tag) => await scripts.keepVersion([tag.version], [life])))
  if (op.expected !== null && versions.some((v, i) => v !== op.expected![i])) return false
  await Promise.all(op.tags.map(async (tag) => await scripts.fileMember([tag.set], [op.key, life])))
  const stamp = op.tags.length === 0 ? '' : JSON.stringify(Object.fromEntries(op.tags.map((tag, i) => [tag.name, versions[i]])))
  await scripts.writeEntry([op.key], [op.payload, op.ttl, op.staleTtl, stamp])
  return true
}
