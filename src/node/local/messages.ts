/**
 * The local endpoint's requests and answers. A command asks for a snapshot (the farm view
 * and who is live), the log report, a log follow, or a write; the holder answers each by
 * the request's id. Requests are checked here, on the holder's side, before anything runs.
 */
import { z } from 'zod'
import type { LogFilter } from '../controller/controller.js'
import type { DraftBody } from '../../protocol/events.js'
import type { LogEntry } from '../../protocol/logs.js'
import type { FarmView } from '../../protocol/view.js'
import { LocalWireError, type Refusal } from './errors.js'

/** Long enough for any write a person waits on; a request asking longer is refused. */
const MAX_WRITE_TIMEOUT_MS = 24 * 60 * 60 * 1000

const filterSchema = z.strictObject({
  jobId: z.string().max(200).optional(),
  node: z.string().max(200).optional()
})

const requestSchema = z.discriminatedUnion('method', [
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('hello') }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('snapshot') }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('logs'), filter: filterSchema }),
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('follow'), filter: filterSchema }),
  // The body is judged and checked in full by the holder's write, as any write of its own is.
  z.strictObject({ id: z.number().int().nonnegative(), method: z.literal('write'), body: z.looseObject({ type: z.string() }), timeoutMs: z.number().positive().max(MAX_WRITE_TIMEOUT_MS) })
])

export type Request =
  | { readonly id: number, readonly method: 'hello' | 'snapshot' }
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

/** What a command needs to answer a read without a mesh of its own. */
export interface Snapshot extends Hello {
  /** Whether the holder's copy is current: it met a peer and caught up. */
  readonly reachedPeer: boolean
  readonly view: FarmView
  readonly livePeers: readonly string[]
  /** Clock skews worth a warning, by peer. */
  readonly clockSkews: Readonly<Record<string, number>>
}

export type Answer =
  | { readonly id: number, readonly ok: unknown }
  | { readonly id: number, readonly entry: LogEntry }
  | { readonly id: number, readonly error: Refusal }
