/**
 * The local endpoint's requests and answers. A command asks for a snapshot (the farm view
 * and who is live), the log report, a log follow, or a write; one with a store of its own
 * asks a render node who is live, pulls the events it lacks, and relays its own. The
 * holder answers each by the request's id. Requests are checked here, on the holder's
 * side, before anything runs; what a pull answers is checked on the command's side.
 */
import { z } from 'zod'
import type { LogFilter } from '../controller/controller.js'
import type { DraftBody } from '../../protocol/events.js'
import type { LogEntry } from '../../protocol/logs.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import type { FarmView } from '../../protocol/view.js'
import { LocalWireError, type Refusal } from './errors.js'

/** Long enough for any write a person waits on; a request asking longer is refused. */
const MAX_WRITE_TIMEOUT_MS = 24 * 60 * 60 * 1000
/** Events in one relay: a sync batch's worth (each event is bounded by admission, 64 KiB). */
export const MAX_RELAY_EVENTS = 512

const versionVectorSchema = z.record(z.string().max(200), z.int().nonnegative())

const filterSchema = z.strictObject({
  jobId: z.string().max(200).optional(),
  node: z.string().max(200).optional()
})

const requestSchema = z.discriminatedUnion('method', [
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('hello') }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('snapshot') }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('liveness') }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('pull'), have: versionVectorSchema }),
  // Admitted by the holder's store as any peer's events are: nothing about them is taken on trust.
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('relay'), events: z.array(z.instanceof(Uint8Array)).min(1).max(MAX_RELAY_EVENTS) }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('logs'), filter: filterSchema }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('follow'), filter: filterSchema }),
  // The body is judged and checked in full by the holder's write, as any write of its own is.
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('write'), body: z.looseObject({ type: z.string() }), timeoutMs: z.number().positive().max(MAX_WRITE_TIMEOUT_MS) })
])

export type Request =
  | { readonly id: number, readonly method: 'hello' | 'snapshot' | 'liveness' }
  | { readonly id: number, readonly method: 'pull', readonly have: VersionVector }
  | { readonly id: number, readonly method: 'relay', readonly events: readonly Uint8Array[] }
  | { readonly id: number, readonly method: 'logs', readonly filter: LogFilter }
  | { readonly id: number, readonly method: 'follow', readonly filter: LogFilter }
  | { readonly id: number, readonly method: 'write', readonly body: DraftBody, readonly timeoutMs: number }

export function parseRequest (value: unknown): Request {
  const parsed = requestSchema.safeParse(value)
  if (!parsed.success) throw new LocalWireError(`not a request: ${z.prettifyError(parsed.error)}`)
  return parsed.data as Request
}

/** Who the holder is, without the farm: cheap to ask before anything else. */
export interface Hello {
  /** The holder's identity: the author of what it writes. */
  readonly peerId: string
  /** Which farm the holder is on (endpoint.ts `farmFingerprint`): a command on another farm's key must not read it. */
  readonly farm: string
  /** Where the holder listens on the mesh, for a command that still joins the mesh to dial at once. */
  readonly addresses: readonly string[]
  /** Whether the holder writes for this data directory's identity (a render node does not take writes). */
  readonly writable: boolean
}

/** Who is up, as the holder sees it. */
export interface Liveness {
  /** Whether the holder's copy is current: it met a peer and caught up. */
  readonly reachedPeer: boolean
  readonly livePeers: readonly string[]
  /** Clock skews worth a warning, by peer. */
  readonly clockSkews: Readonly<Record<string, number>>
}

/** What a command needs to answer a read without a mesh of its own. */
export interface Snapshot extends Hello, Liveness {
  readonly view: FarmView
}

const pulledSchema = z.strictObject({
  have: versionVectorSchema,
  events: z.array(z.instanceof(Uint8Array)),
  more: z.boolean()
})

/** A pull's answer: events the asker lacks, feed by feed in seq order, and what the holder held as it read them. */
export interface Pulled {
  readonly have: VersionVector
  readonly events: readonly Uint8Array[]
  /** The answer stopped at its bounds: ask again. */
  readonly more: boolean
}

/** What the holder holds once it took in a relay: the asker checks its own feed is there. */
export interface Relayed {
  readonly have: VersionVector
}

/** A pull's answer as the holder sent it, checked before its events reach the store (which verifies each in full). */
export function parsePulled (value: unknown): Pulled {
  const parsed = pulledSchema.safeParse(value)
  if (!parsed.success) throw new LocalWireError(`not a pull's answer: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

/** A relay's answer as the holder sent it. */
export function parseRelayed (value: unknown): Relayed {
  const parsed = pulledSchema.pick({ have: true }).safeParse(value)
  if (!parsed.success) throw new LocalWireError(`not a relay's answer: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

export type Answer =
  | { readonly id: number, readonly ok: unknown }
  | { readonly id: number, readonly entry: LogEntry }
  | { readonly id: number, readonly error: Refusal }
