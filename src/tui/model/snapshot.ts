/**
 * What the TUI shows, as one value: the farm view from the store, what heartbeats said
 * lately, which holders hail found gone, the log report's rows, and how this peer stands
 * on the mesh. The screens are pure functions of it (and of the time), so they can be
 * tested and timed without a mesh.
 */
import type { LeaseRef } from '../../protocol/liveness.js'
import type { VerifiedEvent } from '../../protocol/events.js'
import { logEntryOf, type LogEntry } from '../../protocol/logs.js'
import type { FarmView } from '../../protocol/view.js'
import type { ClientStatus } from '../../protocol/vocabulary.js'

/** The latest heartbeat from one peer. */
export interface HeartbeatSeen {
  readonly status: ClientStatus
  readonly lease: LeaseRef | null
  /** Progress of the held block, 0-100, when its renderer reports it. */
  readonly progressPct: number | null
  /** Its working-hour schedule lets it render now. */
  readonly mayRender: boolean
  /** How long its feed is, by its own count: more than we hold means we are behind. */
  readonly feedSeq: number
  readonly receivedAtMs: number
}

/** Where this peer is in joining the farm. */
export type SyncState =
  | { readonly phase: 'opening' }
  | { readonly phase: 'looking-for-peers', readonly elapsedMs: number }
  | { readonly phase: 'catching-up', readonly appended: number }
  /** Caught up once; since then the mesh keeps it current. */
  | { readonly phase: 'live' }
  /** No peer answered the catch-up: the screens show this machine's copy. */
  | { readonly phase: 'alone' }

export interface MeshState {
  /** The farm's mDNS service tag, or how peers are found without one. */
  readonly farm: string
  readonly identity: string
  readonly peersConnected: number
  readonly sync: SyncState
  /** Where the mesh and logger write while the TUI owns the screen. */
  readonly logFile: string
}

export interface FarmSnapshot {
  readonly view: FarmView
  /** Every peer's latest heartbeat, by peer id. */
  readonly heartbeats: ReadonlyMap<string, HeartbeatSeen>
  /** Peers known to be up: connected, or heard lately. */
  readonly live: ReadonlySet<string>
  /** Holders that hail declared dead: their blocks are not being rendered, whatever the log says. */
  readonly goneHolders: ReadonlySet<string>
  /** How many events of each author's feed this peer holds (its version vector): heartbeats tell how far behind it is. */
  readonly held: Readonly<Record<string, number>>
  /** The log report, oldest first. */
  readonly logs: readonly LogRecord[]
  readonly mesh: MeshState
}

export const SEVERITIES = ['info', 'warn', 'error'] as const
export type Severity = (typeof SEVERITIES)[number]

/** A row of the log report with how much it matters, for the Logs screen's filter. */
export interface LogRecord {
  readonly entry: LogEntry
  readonly severity: Severity
}

/** The log row an event stands for (null for events outside the report), with its severity. */
export function logRecordOf (verified: VerifiedEvent): LogRecord | null {
  const entry = logEntryOf(verified)
  if (entry === null) return null
  const { body } = verified.event
  // A fatal failure stops the job (Error Return); a retryable one or a release only delays it.
  const severity: Severity = body.type === 'block.failed' ? (body.failure === 'fatal' ? 'error' : 'warn') : body.type === 'block.released' ? 'warn' : 'info'
  return { entry, severity }
}
