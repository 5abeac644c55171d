/**
 * The render-node agent's contract: what it is told (inputs), what it asks its driver to
 * do (commands), and where it stands (phase). The simulator and the real node both drive
 * the agent through exactly these types.
 */
import type { EventBody } from '../events.js'
import type { FrameRange } from '../frames.js'
import type { Beat, LeaseRef, LivenessCommand, LivenessInput } from '../liveness.js'
import type { BlockRef } from '../scheduling.js'
import type { FarmView } from '../view.js'
import type { FailureKind } from '../vocabulary.js'

export type AgentInput =
  /** Time passes; `mayRender` is the node's working-hour verdict now. */
  | { readonly kind: 'tick', readonly nowMs: number, readonly mayRender: boolean }
  /** The replica's view after events were committed (the agent's own appends included). */
  | { readonly kind: 'view-changed', readonly nowMs: number, readonly view: FarmView }
  | { readonly kind: 'render-finished', readonly nowMs: number, readonly target: BlockRef, readonly wallMs: number, readonly frames: readonly { readonly frame: number, readonly ms: number }[] }
  | { readonly kind: 'render-failed', readonly nowMs: number, readonly target: BlockRef, readonly failure: FailureKind, readonly message: string, readonly outputTail: readonly string[] }
  | { readonly kind: 'heartbeat-received', readonly from: string, readonly nowMs: number, readonly beat: Beat }
  /** A peer hails us: "are you rendering `lease`?" We answer from the renderer's real state. */
  | { readonly kind: 'hail-received', readonly from: string, readonly nowMs: number, readonly nonce: number, readonly lease: LeaseRef }
  /** Hail answers, relay requests, dropped connections, and `hail-all` on start: passed to liveness. */
  | Extract<LivenessInput, { kind: 'hail-answered' | 'indirect-hail-requested' | 'indirect-hail-answered' | 'peer-disconnected' | 'hail-all' }>
  /** A peer's claim reached our log. If it is on the block we hold, the claimant must hear of our claim. */
  | { readonly kind: 'claim-seen', readonly from: string, readonly nowMs: number, readonly target: BlockRef }
  /** Graceful shutdown: release what we hold so others take it at once. */
  | { readonly kind: 'shutdown', readonly nowMs: number }

export type AgentCommand =
  /** Sign, commit and publish this body in our feed, then send `view-changed`. */
  | { readonly kind: 'append', readonly body: EventBody }
  | { readonly kind: 'start-renderer', readonly target: BlockRef, readonly frames: FrameRange }
  /** Kill the renderer of `target` now; report nothing more about it. */
  | { readonly kind: 'stop-renderer', readonly target: BlockRef, readonly reason: string }
  | { readonly kind: 'send-heartbeat', readonly beat: Beat }
  /**
   * Send our claim on `target` to `to` directly (a stream, not gossip): it claimed the block
   * we hold, and if our claim reached it late it would render beside us until it did.
   */
  | { readonly kind: 'send-claim', readonly to: string, readonly target: BlockRef }
  /** Answer a hail with what we render now; the driver adds its feed's length (`HailAnswer.feedSeq`). */
  | { readonly kind: 'answer-hail', readonly to: string, readonly nonce: number, readonly rendering: LeaseRef | null }
  | LivenessCommand

/** A lease claimed and not rendering yet: it may start at `startAtMs`, once colliding claims had time to arrive. */
export interface QueuedClaim {
  readonly target: BlockRef
  readonly startAtMs: number
}

/**
 * Where the agent stands, in short. Only `settling` and `rendering` hold leases; a node
 * that renders may hold claims queued behind the render too (`Agent.claims`).
 */
export type AgentPhase =
  | { readonly kind: 'idle' }
  /** Idle, putting off its claim of `target` (a backup's stagger, a contested hand-out's jitter), re-checked then. */
  | { readonly kind: 'waiting', readonly target: BlockRef, readonly claimAtMs: number }
  /** Claimed, no renderer running: waiting for colliding claims before starting it. */
  | ({ readonly kind: 'settling' } & QueuedClaim)
  | { readonly kind: 'rendering', readonly target: BlockRef, readonly sinceMs: number }
  /** Shut down: answers nothing, claims nothing. */
  | { readonly kind: 'stopped' }

/** The view an agent starts with, before its replica has told it anything. */
export const EMPTY_VIEW: FarmView = { jobs: [], nodes: [], founder: null, wranglers: [] }
