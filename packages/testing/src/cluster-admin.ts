import type { Redis } from 'ioredis'
import { waitFor } from './process.js'
import type { RedisServer } from './redis.js'

export interface ClusterNodeInfo {
  id: string
  server: RedisServer
  role: 'master' | 'replica'
  /** Node id of the master, for a replica. */
  masterId?: string
  /** Slots the node owns, for a master. */
  slots: number[]
}

/** Slot moves and failovers on a harness Cluster, for tests of a changing topology. */
export interface ClusterAdmin {
  /** Each node's id, role and slots, as a live master sees them. */
  topology: () => Promise<ClusterNodeInfo[]>
  /** The slot of a key (CLUSTER KEYSLOT). */
  keySlot: (key: string) => Promise<number>
  /** The master serving a slot. */
  ownerOf: (slot: number) => Promise<RedisServer>
  /** Another master than the slot's owner, e.g. as the target of a move. */
  otherMaster: (slot: number) => Promise<RedisServer>
  /** SETSLOT IMPORTING on the target, then MIGRATING on the owner. No key moves. */
  startSlotMove: (slot: number, to: RedisServer) => Promise<void>
  /**
   * MIGRATEs the slot's keys from its owner to the target, in batches of
   * `batch` (100), at most `limit` of them (all); returns how many moved.
   */
  migrateSlotKeys: (slot: number, to: RedisServer, batch?: number, limit?: number) => Promise<number>
  /** SETSLOT NODE on every master (target first): the target owns the slot. */
  finishSlotMove: (slot: number, to: RedisServer) => Promise<void>
  /** SETSLOT STABLE on every master: the move is cancelled, the owner keeps the slot. */
  cancelSlotMove: (slot: number) => Promise<void>
  /** startSlotMove, migrateSlotKeys and finishSlotMove. */
  moveSlot: (slot: number, to: RedisServer) => Promise<number>
  /**
   * CLUSTER FAILOVER on a replica of the master: waits until the replica is a
   * master every node agrees on, and returns it. Needs replicasPerMaster ≥ 1.
   */
  failover: (master: RedisServer) => Promise<RedisServer>
}

function parseSlots (fields: string[]): number[] {
  const slots: number[] = []
  for (const field of fields) {
    if (field.startsWith('[')) continue // a migrating or importing mark, not an owned slot
    const [start, end] = field.split('-').map(Number) as [number, number | undefined]
    for (let s = start; s <= (end ?? start); s++) slots.push(s)
  }
  return slots
}

export function clusterAdmin (servers: RedisServer[], password?: string): ClusterAdmin {
  const admins = new Map<RedisServer, Redis>()
  const admin = (server: RedisServer): Redis => {
    let client = admins.get(server)
    if (client === undefined || client.status === 'end') {
      client = server.client({ maxRetriesPerRequest: 1 })
      admins.set(server, client)
    }
    return client
  }
  const byPort = (port: number): RedisServer => {
    const server = servers.find((s) => s.port === port)
    if (server === undefined) throw new Error(`no harness server on port ${port}`)
    return server
  }

  const nodesSeenBy = async (server: RedisServer): Promise<ClusterNodeInfo[]> => {
    const text = await admin(server).cluster('NODES') as string
    return text.trim().split('\n').map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.split(' ') as [string, string, string, string, ...string[]]
      const port = Number(address.split('@')[0]!.split(':').pop())
      const isMaster = flags.split(',').includes('master')
      return {
        id,
        server: byPort(port),
        role: isMaster ? 'master' as const : 'replica' as const,
        ...(isMaster ? {} : { masterId: master }),
        slots: isMaster ? parseSlots(slots) : []
      }
    })
  }
  const topology = async (): Promise<ClusterNodeInfo[]> => {
    let lastError: unknown
    for (const server of servers) {
      try {
        return await nodesSeenBy(server)
      } catch (err) {
        lastError = err
      }
    }
    throw lastError
  }
  const idOf = async (server: RedisServer): Promise<string> => await admin(server).cluster('MYID') as string
  const masters = async (): Promise<ClusterNodeInfo[]> => (await topology()).filter((n) => n.role === 'master')
  const ownerOf = async (slot: number): Promise<RedisServer> => {
    const owner = (await masters()).find((n) => n.slots.includes(slot))
    if (owner === undefined) throw new Error(`no master owns slot ${slot}`)
    return owner.server
  }

  const startSlotMove = async (slot: number, to: RedisServer): Promise<void> => {
    const from = await ownerOf(slot)
    await admin(to).cluster('SETSLOT', slot, 'IMPORTING', await idOf(from))
    await admin(from).cluster('SETSLOT', slot, 'MIGRATING', await idOf(to))
  }
  const migrateSlotKeys = async (slot: number, to: RedisServer, batch = 100, limit = Infinity): Promise<number> => {
    const from = await ownerOf(slot)
    const auth = password !== undefined ? ['AUTH', password] : []
    let moved = 0
    for (;;) {
      const count = Math.min(batch, limit - moved)
      if (count <= 0) return moved
      const keys = await admin(from).cluster('GETKEYSINSLOT', slot, count) as string[]
      if (keys.length === 0) return moved
      await admin(from).call('MIGRATE', to.host, to.port, '', 0, 5000, ...auth, 'KEYS', ...keys)
      moved += keys.length
    }
  }
  const finishSlotMove = async (slot: number, to: RedisServer): Promise<void> => {
    const toId = await idOf(to)
    const from = await ownerOf(slot)
    const rest = (await masters()).map((n) => n.server).filter((s) => s !== to && s !== from)
    // The target first, so it never answers MOVED back to the old owner.
    for (const server of [to, from, ...rest]) await admin(server).cluster('SETSLOT', slot, 'NODE', toId)
  }
  const cancelSlotMove = async (slot: number): Promise<void> => {
    for (const node of await masters()) await admin(node.server).cluster('SETSLOT', slot, 'STABLE')
  }

  const failover = async (master: RedisServer): Promise<RedisServer> => {
    const masterId = await idOf(master)
    const replica = (await topology()).find((n) => n.role === 'replica' && n.masterId === masterId)
    if (replica === undefined) throw new Error(`master on port ${master.port} has no replica; start the cluster with replicasPerMaster`)
    await waitFor(async () => (await admin(replica.server).info('replication')).includes('master_link_status:up'),
      10_000, `replica on port ${replica.server.port} to sync`)
    await admin(replica.server).cluster('FAILOVER')
    const replicaId = replica.id
    await waitFor(async () => {
      for (const server of servers) {
        const seen = (await nodesSeenBy(server)).find((n) => n.id === replicaId)
        if (seen?.role !== 'master') return false
        if (!(await admin(server).cluster('INFO') as string).includes('cluster_state:ok')) return false
      }
      return true
    }, 20_000, `replica on port ${replica.server.port} to take over`)
    return replica.server
  }

  return {
    topology,
    keySlot: async (key) => await admin(servers[0]!).cluster('KEYSLOT', key) as number,
    ownerOf,
    otherMaster: async (slot) => {
      const owner = await ownerOf(slot)
      const other = (await masters()).find((n) => n.server !== owner)
      if (other === undefined) throw new Error('the cluster has one master')
      return other.server
    },
    startSlotMove,
    migrateSlotKeys,
    finishSlotMove,
    cancelSlotMove,
    moveSlot: async (slot, to) => {
      await startSlotMove(slot, to)
      const moved = await migrateSlotKeys(slot, to)
      await finishSlotMove(slot, to)
      return moved
    },
    failover
  }
}
