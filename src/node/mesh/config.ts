/**
 * The mesh's settings, with the defaults a studio LAN wants. Every threshold is a named
 * value with its unit; `resolveMeshConfig` fills in what the caller left out and refuses
 * what cannot work (a malformed multiaddr, a batch smaller than one event), so a bad
 * `--peer` fails at start with the field named, not later as a failed dial.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { MAX_EVENT_BYTES } from '../../protocol/encoding.js'
import { InvalidMeshConfigError } from './errors.js'
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_WINDOW_BATCHES, MIN_BATCH_BYTES } from './wire.js'

/** All interfaces, any free port: mDNS announces whatever the OS gave us. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
/** DNS-SD name peers announce and query; farms (and tests) with other tags do not meet. */
export const DEFAULT_MDNS_SERVICE_TAG = '_constellation._udp.local'
/**
 * Every peer answers every query, and multicast brings each node every answer: a farm of N
 * nodes handles N² packets an interval. A node that starts (or restarts) queries at once
 * and every peer answers it, so the interval only bounds how soon the two sides of a healed
 * partition meet again.
 */
export const DEFAULT_MDNS_QUERY_INTERVAL_MS = 30_000
/** How often a static `--peer` that is not connected is dialled again. */
export const DEFAULT_BOOTSTRAP_REDIAL_MS = 5_000
/**
 * A keep-alive beat each way every second (each beat costs a frame and its window update
 * each way: at half a second, the beats alone were a fifth of an idle node's CPU)...
 */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 1_000
/**
 * ...and a peer unheard for 2.5 s is dropped: a hung peer is noticed in 2.5 to 3.5 s. A
 * hung holder is hailed sooner anyway, after HEARTBEAT_TIMEOUT_MS without a heartbeat.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 2_500
/**
 * While no lease is held anywhere (keep-alive.ts), a beat every 5 s and a peer dropped after
 * 12.5 s of silence: an idle farm has no lease to free quickly, and a beat is what an idle
 * node spends most of its CPU on.
 */
export const DEFAULT_KEEP_ALIVE_IDLE_INTERVAL_MS = 5_000
export const DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT_MS = 12_500
/** Pull from a random peer this often, so a message gossip lost is found without a new event. */
export const DEFAULT_ANTI_ENTROPY_INTERVAL_MS = 10_000
/** ...and every 30 s while no lease is held anywhere (scheduler.ts). */
export const DEFAULT_IDLE_ANTI_ENTROPY_INTERVAL_MS = 30_000
export const DEFAULT_SYNC_BATCH_MAX_EVENTS = 512
export const DEFAULT_SYNC_BATCH_MAX_BYTES = 1024 * 1024
/** Batches a puller lets a server send ahead of what it has ingested: the back-pressure window. */
export const DEFAULT_SYNC_WINDOW_BATCHES = 4
/** After this many events a pull yields to other queued peers (a peer with a huge feed cannot starve the rest). */
export const DEFAULT_SYNC_MAX_EVENTS_PER_SESSION = 50_000
/** A sync stream silent this long is abandoned. Hung peers are caught sooner by keep-alive. */
export const DEFAULT_SYNC_IDLE_TIMEOUT_MS = 30_000
/** Offence points that get a peer disconnected and refused (see offences.ts for the weights). */
export const DEFAULT_BAN_THRESHOLD = 10
export const DEFAULT_OFFENCE_DECAY_PER_MINUTE = 1
export const DEFAULT_BAN_DURATION_MS = 10 * 60_000

const positiveMs = z.int().min(1).max(24 * 60 * 60_000)
const positiveCount = z.int().min(1).max(10_000_000)

const multiaddrText = z.string().refine((value) => {
  try {
    multiaddr(value)
    return true
  } catch {
    // Whatever the parser disliked, it is not a multiaddr: the schema's message says so.
    return false
  }
}, { error: 'must be a multiaddr such as /ip4/192.0.2.7/tcp/4001' })

const meshConfigSchema = z.strictObject({
  /** Multiaddrs to listen on; tests use /ip4/127.0.0.1/tcp/0 to stay on loopback. */
  listen: z.array(multiaddrText).min(1).default(DEFAULT_LISTEN),
  /** Static peers (`--peer`), for networks that block multicast. */
  bootstrapPeers: z.array(multiaddrText).default([]),
  bootstrapRedialMs: positiveMs.default(DEFAULT_BOOTSTRAP_REDIAL_MS),
  mdns: z.strictObject({
    enabled: z.boolean().default(true),
    serviceTag: z.string().regex(/^_[a-z0-9-]{1,40}\._(udp|tcp)\.local$/, { error: 'must look like _name._udp.local' }).default(DEFAULT_MDNS_SERVICE_TAG),
    queryIntervalMs: positiveMs.default(DEFAULT_MDNS_QUERY_INTERVAL_MS)
  }).prefault({}),
  keepAliveIntervalMs: positiveMs.default(DEFAULT_KEEP_ALIVE_INTERVAL_MS),
  keepAliveTimeoutMs: positiveMs.default(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
  keepAliveIdleIntervalMs: positiveMs.default(DEFAULT_KEEP_ALIVE_IDLE_INTERVAL_MS),
  keepAliveIdleTimeoutMs: positiveMs.default(DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT_MS),
  sync: z.strictObject({
    antiEntropyIntervalMs: positiveMs.default(DEFAULT_ANTI_ENTROPY_INTERVAL_MS),
    idleAntiEntropyIntervalMs: positiveMs.default(DEFAULT_IDLE_ANTI_ENTROPY_INTERVAL_MS),
    batchMaxEvents: z.int().min(1).max(MAX_BATCH_EVENTS).default(DEFAULT_SYNC_BATCH_MAX_EVENTS),
    batchMaxBytes: z.int().min(MIN_BATCH_BYTES, { error: `must hold at least one event of ${MAX_EVENT_BYTES} bytes` })
      .max(MAX_BATCH_BYTES).default(DEFAULT_SYNC_BATCH_MAX_BYTES),
    windowBatches: z.int().min(1).max(MAX_WINDOW_BATCHES).default(DEFAULT_SYNC_WINDOW_BATCHES),
    maxEventsPerSession: positiveCount.default(DEFAULT_SYNC_MAX_EVENTS_PER_SESSION),
    idleTimeoutMs: positiveMs.default(DEFAULT_SYNC_IDLE_TIMEOUT_MS)
  }).prefault({}),
  offences: z.strictObject({
    banThreshold: z.number().positive().default(DEFAULT_BAN_THRESHOLD),
    decayPerMinute: z.number().nonnegative().default(DEFAULT_OFFENCE_DECAY_PER_MINUTE),
    banDurationMs: positiveMs.default(DEFAULT_BAN_DURATION_MS)
  }).prefault({})
})

export type MeshConfig = z.output<typeof meshConfigSchema>
/** What a caller may pass: any subset, nested objects included. */
export type MeshConfigInput = z.input<typeof meshConfigSchema>

export function resolveMeshConfig (input: MeshConfigInput = {}): MeshConfig {
  const parsed = meshConfigSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const [issue] = parsed.error.issues
  throw new InvalidMeshConfigError(issue?.path.map(String).join('.') ?? 'config', issue?.message ?? 'rejected')
}
