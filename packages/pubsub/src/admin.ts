import type { RedkitDescription, RedkitSample } from '@redkit/core'
import { panelValues, typedFields } from '@redkit/core/kit'
import type { PubsubStats } from './types.js'

/* What @redkit/admin (or any admin reading core's descriptions) shows and serves of this package. */

const COUNTERS = [
  ['published', 'redkit_pubsub_published_total', 'Messages published by this instance', 'Published'],
  ['received', 'redkit_pubsub_received_total', 'Messages received from Redis', 'Received'],
  ['malformed', 'redkit_pubsub_malformed_total', 'Messages that could not be decoded', 'Malformed'],
  ['gaps', 'redkit_pubsub_gaps_total', 'Gaps detected in message sequences', 'Gaps'],
  ['missed', 'redkit_pubsub_missed_total', 'Messages reported missing by gaps', 'Missed'],
  ['resubscribes', 'redkit_pubsub_resubscribes_total', 'Resubscriptions after a reconnect', 'Resubscribes']
] as const

// Fields it does not list (streams, dispatch counters…) are sent as they are.
const statsSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    mode: { type: 'string' },
    channels: { type: 'array', items: { type: 'object', properties: { channel: { type: 'string' }, subscribers: { type: 'integer' } } } },
    patterns: { type: 'array', items: { type: 'object', properties: { pattern: { type: 'string' }, subscribers: { type: 'integer' } } } },
    ...typedFields([...COUNTERS.map(([field]) => field), 'sseClients'])
  }
}

function subscribers (s: PubsubStats): RedkitSample[] {
  return [...s.channels.map((c): RedkitSample => [{ channel: c.channel }, c.subscribers]),
    ...s.patterns.map((p): RedkitSample => [{ channel: p.pattern }, p.subscribers])]
}

export function describePubsub (stats: () => PubsubStats): RedkitDescription<PubsubStats> {
  return {
    name: 'pubsub',
    package: '@redkit/pubsub',
    stats,
    statsSchema,
    metrics: [
      ...COUNTERS.map(([field, name, help]) => ({ name, type: 'counter' as const, help, read: (s: PubsubStats): RedkitSample[] => [[{}, s[field]]] })),
      { name: 'redkit_pubsub_subscribers', type: 'gauge', help: 'Local subscribers per channel or pattern', labelNames: ['channel'], read: subscribers },
      { name: 'redkit_pubsub_sse_clients', type: 'gauge', help: 'Open server-sent event streams', read: (s) => [[{}, s.sseClients]] }
    ],
    routes: [{
      method: 'GET',
      url: '/pubsub',
      summary: 'Channels, subscribers, gaps and counters of this instance',
      schema: { response: statsSchema },
      handler: () => stats()
    }],
    panel: {
      title: 'Pub/sub',
      values: [
        ...COUNTERS.filter(([field]) => field !== 'malformed').map(([field, , , label]) => ({ label, path: field })),
        { label: 'SSE clients', path: 'sseClients' }
      ],
      tables: [
        { title: 'Channels', path: 'channels', columns: panelValues(['Channel', 'channel'], ['Subscribers', 'subscribers']), empty: 'No channel subscriptions on this instance.' },
        { title: 'Patterns', path: 'patterns', columns: panelValues(['Pattern', 'pattern'], ['Subscribers', 'subscribers']), empty: 'No pattern subscriptions on this instance.' }
      ]
    }
  }
}
