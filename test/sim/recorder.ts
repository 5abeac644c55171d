/**
 * What the simulator observes as it runs, for the invariants and the figures: renderer
 * spans (real renderer state, not the view), every block finish written, the steering
 * acts, when nodes were unhealthy (crashed, paused) or cut off, which messages reached
 * whom, every dead verdict, and takeover latencies. Also a trace hash: a run that replays
 * exactly produces the same hash.
 */
import { createHash, type Hash } from 'node:crypto'
import type { BlockRef } from '../../src/protocol/scheduling.js'

export interface RenderSpan {
  readonly node: string
  readonly target: BlockRef
  readonly startMs: number
  endMs: number
}

export interface Interval {
  readonly startMs: number
  endMs: number
}

export interface Partition extends Interval {
  readonly island: ReadonlySet<string>
}

export type TakeoverCause = 'crash' | 'hang' | 'shutdown'

/** A `block.finished` some node wrote, when it wrote it. */
export interface FinishRecord {
  readonly node: string
  readonly target: BlockRef
  readonly atMs: number
}

/** A steering act written in someone's feed, and whether its author may steer that job. */
export type SteerRecord = {
  readonly jobId: string
  readonly author: string
  readonly authorized: boolean
  readonly atMs: number
} & (
  | { readonly kind: 'halt' | 'resume' | 'disable' | 'enable' | 'delete' }
  /** `failed`: the blocks its author saw ERROR, which must render again. */
  | { readonly kind: 'retry', readonly failed: readonly number[] }
  | { readonly kind: 'priority', readonly priority: number }
)

/** A block claim some node wrote, when it wrote it. */
export interface ClaimRecord {
  readonly node: string
  readonly target: BlockRef
  readonly atMs: number
}

/** A renderer the agent told to stop, and why. */
export interface StopRecord {
  readonly node: string
  readonly target: BlockRef
  readonly reason: string
  readonly atMs: number
}

interface PendingTakeover {
  readonly cause: TakeoverCause
  readonly target: BlockRef
  readonly sinceMs: number
}

export class Recorder {
  readonly spans: RenderSpan[] = []
  private readonly open = new Map<string, RenderSpan>()
  readonly unhealthy = new Map<string, Interval[]>()
  readonly partitions: Partition[] = []
  /** Dead verdicts, each with when its author last heard the peer alive (-Infinity: never). */
  readonly declares: { readonly by: string, readonly peer: string, readonly atMs: number, readonly lastHeardMs: number }[] = []
  readonly takeovers: { readonly cause: TakeoverCause, readonly ms: number }[] = []
  /** From a crash or hang to the first dead verdict on the node. */
  readonly detections: { readonly cause: TakeoverCause, readonly ms: number }[] = []
  private readonly pending: PendingTakeover[] = []
  /** The fault each unhealthy node is in, until its first dead verdict. */
  private readonly faults = new Map<string, { readonly cause: TakeoverCause, readonly sinceMs: number }>()
  readonly finishes: FinishRecord[] = []
  readonly claims: ClaimRecord[] = []
  readonly steering: SteerRecord[] = []
  readonly stops: StopRecord[] = []
  /**
   * When one node last heard from another that it is alive (a heartbeat, a hail answer), by
   * `from>to`: a verdict is judged against it as it is made, so no history is kept (a farm
   * of hundreds of nodes hears tens of millions of beats).
   */
  private readonly lastDelivery = new Map<string, number>()
  readonly counts = { hails: 0, indirectHails: 0, leasesFreed: 0, lostLeaseStops: 0 }
  readonly problems: string[] = []
  private readonly trace: Hash = createHash('sha256')

  note (line: string): void {
    this.trace.update(line).update('\n')
  }

  traceHash (): string {
    return this.trace.copy().digest('hex')
  }

  renderStarted (node: string, target: BlockRef, nowMs: number): void {
    const span = { node, target, startMs: nowMs, endMs: Number.POSITIVE_INFINITY }
    this.spans.push(span)
    this.open.set(node, span)
    for (let index = this.pending.length - 1; index >= 0; index--) {
      const pending = this.pending[index]
      if (pending === undefined || pending.target.jobId !== target.jobId || pending.target.block !== target.block || target.epoch <= pending.target.epoch) continue
      this.takeovers.push({ cause: pending.cause, ms: nowMs - pending.sinceMs })
      this.pending.splice(index, 1)
    }
  }

  renderEnded (node: string, nowMs: number): void {
    const span = this.open.get(node)
    if (span === undefined) return
    span.endMs = nowMs
    this.open.delete(node)
  }

  finished (node: string, target: BlockRef, nowMs: number): void {
    this.finishes.push({ node, target, atMs: nowMs })
  }

  claimed (node: string, target: BlockRef, nowMs: number): void {
    this.claims.push({ node, target, atMs: nowMs })
  }

  delivered (from: string, to: string, nowMs: number): void {
    this.lastDelivery.set(`${from}>${to}`, nowMs)
  }

  rendering (node: string): BlockRef | null {
    return this.open.get(node)?.target ?? null
  }

  /** `node` stops being healthy (crash, pause, shutdown): what it rendered awaits takeover. */
  fault (node: string, cause: TakeoverCause, nowMs: number): void {
    this.faults.set(node, { cause, sinceMs: nowMs })
    const target = this.rendering(node)
    if (target !== null) this.pending.push({ cause, target, sinceMs: nowMs })
    const periods = this.unhealthy.get(node) ?? []
    periods.push({ startMs: nowMs, endMs: Number.POSITIVE_INFINITY })
    this.unhealthy.set(node, periods)
  }

  declared (by: string, peer: string, nowMs: number): void {
    this.declares.push({ by, peer, atMs: nowMs, lastHeardMs: this.lastDelivery.get(`${peer}>${by}`) ?? Number.NEGATIVE_INFINITY })
    const fault = this.faults.get(peer)
    if (fault === undefined) return
    this.detections.push({ cause: fault.cause, ms: nowMs - fault.sinceMs })
    this.faults.delete(peer)
  }

  recovered (node: string, nowMs: number): void {
    this.faults.delete(node)
    const last = this.unhealthy.get(node)?.at(-1)
    if (last !== undefined && last.endMs === Number.POSITIVE_INFINITY) last.endMs = nowMs
  }

  /** Takeovers still pending when the block finished some other way (the holder came back) do not count. */
  finishRun (nowMs: number): void {
    for (const span of this.open.values()) span.endMs = nowMs
    this.pending.length = 0
  }
}
