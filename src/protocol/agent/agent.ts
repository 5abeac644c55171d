/**
 * The render-node agent: a pure state machine that decides, from the view and what
 * liveness knows, which block this node claims, when it starts and stops its renderer,
 * and which facts it writes. It never reads a clock or touches the network: its driver
 * (the simulator, or the real node) feeds it inputs and carries out its commands.
 *
 * Rules it keeps: claim through `decideClaim`, waiting out a backup's stagger and
 * re-checking; start the renderer only after CLAIM_SETTLE_MS and only while `holdsLease`;
 * stop at once when the lease is lost (a higher epoch, a colliding claim that ranks
 * higher, the block done elsewhere); release leases the log shows it holding but it does
 * not render (it restarted); release what it holds on graceful shutdown.
 *
 * Claims are kept off the critical path: while it renders, a node whose held work should
 * end within PREFETCH_LEAD_MS (by its jobs' average frame times) claims its next block, up
 * to MAX_HELD_LEASES in all, so each claim's settle window passes during earlier renders
 * and a finished block is followed by the next renderer in the same step.
 */
import type { BodyOf } from '../events.js'
import { frameTimesInOrder } from '../frames.js'
import { covers, HAIL_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, INDIRECT_HAIL_TIMEOUT_MS, Liveness, leaseKey, silenceToleratedMs, type LeaseRef, type LivenessFootprint } from '../liveness.js'
import { rankPeers } from '../rendezvous.js'
import { assignBlocks, CLAIM_JITTER_MS, CLAIM_SETTLE_MS, decideClaim, holdsLease, MAX_HELD_LEASES, type BlockRef } from '../scheduling.js'
import { FRAME_MS_MAX } from '../vocabulary.js'
import type { FarmView } from '../view.js'
import { candidatesOf, leasesByHolder, withFreedLeases } from './peers.js'
import { EMPTY_VIEW, type AgentCommand, type AgentInput, type AgentPhase, type QueuedClaim } from './types.js'

export interface AgentInit {
  /** This node's peer id: its feed's author. */
  readonly self: string
  /** The name it announces in the client table on first start. */
  readonly name: string
  /** Uniform in [0, 1), for liveness's choice of indirect probes. */
  readonly random: () => number
}

export interface AgentFootprint {
  readonly released: number
  readonly rivalBlocks: number
  readonly liveness: LivenessFootprint
}

/** Why the agent may no longer render a block it claimed. */
type Loss = { readonly reason: string, readonly release: boolean }

function sameBlock (a: BlockRef, b: BlockRef): boolean {
  return a.jobId === b.jobId && a.block === b.block && a.epoch === b.epoch
}

/**
 * A busy node claims its next block once what it holds should be done within this: the
 * settle window, with room for a loaded machine's delays in claiming and for blocks that
 * end before their job's average. A second of work held back from idle nodes at most.
 */
export const PREFETCH_LEAD_MS = 1_000

/**
 * How long after a hail its answer may still arrive and be judged (the direct hail, then
 * the indirect one): meanwhile the node claims nothing ahead, since the answer names one
 * lease and frees the others.
 */
const HAIL_ANSWER_WINDOW_MS = HAIL_TIMEOUT_MS + INDIRECT_HAIL_TIMEOUT_MS

/**
 * How often a node that holds, settles or waits on a claim is ticked: whether it claims
 * ahead hangs on how far its render has got, which no input announces.
 */
export const BUSY_TICK_MS = 100
/**
 * The longest an idle node goes without a tick. It is woken sooner whenever something
 * falls due (nextTickAtMs); this only bounds how late it sees what no deadline names, such
 * as a rival's silence making it the first candidate for a block.
 */
export const IDLE_TICK_MS = HEARTBEAT_INTERVAL_MS

/** Blocks whose rival claims the agent remembers; a few hand-outs' worth. */
const MAX_REMEMBERED_RIVAL_BLOCKS = 64
/**
 * How many peers a rendezvous ranking on a holder names to hail it, besides the node that
 * would take its block over: enough that a watcher down at the same time does not leave
 * the holder unhailed, few enough that a hung holder hears a handful of hails.
 */
export const HAIL_WATCHERS = 3

function rivalKey (target: BlockRef): string {
  return `${target.jobId}/${target.block}/${target.epoch}`
}

export class Agent {
  private stopped = false
  /** The block the renderer runs, if any. */
  private rendering: { readonly target: BlockRef, readonly sinceMs: number } | null = null
  /** Leases claimed and not rendering yet, oldest first: each starts once settled and the renderer is free. */
  private queued: QueuedClaim[] = []
  /** An idle node's claim put off: a backup's stagger, or the jitter of a contested hand-out. */
  private waiting: { readonly target: BlockRef, readonly claimAtMs: number } | null = null
  private view: FarmView = EMPTY_VIEW
  private seenView = false
  private announced = false
  private nowMs = 0
  private mayRender = true
  private nextHeartbeatMs = 0
  /** When the agent was last ticked: a moment due by then that a tick left due is not waited on again. */
  private lastTickMs = Number.NEGATIVE_INFINITY
  /** When a peer last hailed us: for HAIL_ANSWER_WINDOW_MS after, nothing is claimed ahead. */
  private hailedAtMs = Number.NEGATIVE_INFINITY
  private readonly liveness: Liveness
  /**
   * Leases this agent released that a fresh view may still show it holding, so a release is
   * written once. Forgotten once the view no longer shows the lease: a lease ended never
   * comes back to its holder.
   */
  private readonly released = new Set<string>()
  /**
   * Rival claims heard on blocks we did not hold, by block and epoch: should we claim the
   * same block before our view shows theirs, we send them ours at once, as a holder would.
   */
  private readonly rivals = new Map<string, Set<string>>()
  /** What the last decision saw; deciding again on the same inputs would decide the same. */
  private decided: { readonly view: FarmView, readonly peers: string } | null = null

  constructor (private readonly init: AgentInit) {
    this.liveness = new Liveness({ self: init.self, random: init.random, watches: (holder, _lease, nowMs) => this.watches(holder, nowMs) })
  }

  /**
   * Whether this node hails `holder`: it is one of the HAIL_WATCHERS live peers a
   * rendezvous ranking on the holder names, or the node that would take one of its blocks
   * over once it is dead (the hand-out with the holder left out gives it one), so the
   * verdict is reached where the claim is made. A farm of any size then sends a silent
   * holder a few hails, not one from every node; on a farm of a few nodes all of them watch.
   */
  private watches (holder: string, nowMs: number): boolean {
    const live = this.liveness.live(nowMs)
    const others = live.map(({ peer }) => peer).filter((peer) => peer !== holder && peer !== this.init.self)
    if (rankPeers(`hail/${holder}`, [this.init.self, ...others]).indexOf(this.init.self) < HAIL_WATCHERS) return true
    const candidates = candidatesOf(this.view, { id: this.init.self, leases: this.held().length, mayRender: this.mayRender }, live.filter(({ peer }) => peer !== holder))
    const handed = assignBlocks(this.view, candidates, new Set([...this.liveness.dead(), holder])).get(this.init.self)
    if (handed === undefined) return false
    return this.view.jobs.find((job) => job.id === handed.jobId)?.blocks[handed.block]?.lease?.holder === holder
  }

  /** Where the agent stands: the render if one runs, else the oldest claim settling, else a put-off claim. */
  get current (): AgentPhase {
    if (this.stopped) return { kind: 'stopped' }
    if (this.rendering !== null) return { kind: 'rendering', ...this.rendering }
    const [next] = this.queued
    if (next !== undefined) return { kind: 'settling', ...next }
    return this.waiting === null ? { kind: 'idle' } : { kind: 'waiting', ...this.waiting }
  }

  /** Claims held and not rendering yet, oldest first. */
  get claims (): readonly QueuedClaim[] {
    return this.queued
  }

  /** How much the agent holds now, for bounds checks: each count stays bounded however long it runs. */
  footprint (): AgentFootprint {
    return { released: this.released.size, rivalBlocks: this.rivals.size, liveness: this.liveness.footprint() }
  }

  /**
   * The lease a hail is answered with and heartbeats carry: the block the renderer runs,
   * else the claim that starts next. An answer names one lease and the hailer frees the
   * others, so a hailed node gives up the claims queued behind it (`hailed`).
   */
  holding (): LeaseRef | null {
    return this.rendering?.target ?? this.queued[0]?.target ?? null
  }

  /** Every lease this node holds: the block it renders, then its queued claims. */
  held (): BlockRef[] {
    return [...(this.rendering === null ? [] : [this.rendering.target]), ...this.queued.map(({ target }) => target)]
  }

  /** The next moment something falls due without any input (a settled claim, a put-off claim), or null: the driver wakes the agent then. */
  nextDueMs (): number | null {
    if (this.stopped) return null
    const settled = this.rendering === null ? this.queued[0]?.startAtMs : undefined
    const times = [settled, this.waiting?.claimAtMs].filter((time) => time !== undefined)
    return times.length === 0 ? null : Math.min(...times)
  }

  /**
   * When the driver is to tick the agent next, given that it is `nowMs`: at the next due
   * moment (a claim settling, the heartbeat, a hail timing out), and no later than
   * BUSY_TICK_MS or IDLE_TICK_MS from now. Null once stopped. An idle node so wakes twice a
   * second rather than ten times, which is most of what it costs its machine.
   */
  nextTickAtMs (nowMs: number): number | null {
    if (this.stopped) return null
    const busy = this.rendering !== null || this.queued.length > 0 || this.waiting !== null
    // A due moment a tick has already passed, and left due, would only wake the agent in a loop.
    const due = [this.nextDueMs(), this.liveness.nextDueMs(), this.nextHeartbeatMs].filter((time): time is number => time !== null && time > this.lastTickMs)
    return Math.max(nowMs, Math.min(nowMs + (busy ? BUSY_TICK_MS : IDLE_TICK_MS), ...due))
  }

  handle (input: AgentInput): AgentCommand[] {
    if (this.stopped) return []
    this.nowMs = Math.max(this.nowMs, input.nowMs)
    const commands: AgentCommand[] = []
    switch (input.kind) {
      case 'tick':
        this.lastTickMs = input.nowMs
        this.mayRender = input.mayRender
        commands.push(...this.liveness.handle({ kind: 'tick', nowMs: input.nowMs }), ...this.heartbeatIfDue())
        break
      case 'view-changed':
        this.view = input.view
        this.seenView = true
        this.liveness.observeLeases(leasesByHolder(input.view))
        break
      case 'render-finished':
        commands.push(...this.end(input.target, { type: 'block.finished', ...input.target, wallMs: input.wallMs, frameMs: this.frameMsOf(input) }))
        break
      case 'render-failed':
        commands.push(...this.end(input.target, { type: 'block.failed', ...input.target, failure: input.failure, message: input.message, outputTail: [...input.outputTail] }))
        break
      case 'heartbeat-received': {
        const known = this.liveness.state(input.from)
        commands.push(...this.liveness.handle({ kind: 'heartbeat', from: input.from, nowMs: input.nowMs, beat: input.beat }))
        // The common case, a live peer saying what it said before, changes no decision.
        const unchanged = known?.kind === 'alive' && known.beat !== null && known.beat.mayRender === input.beat.mayRender && input.nowMs - known.lastHeardMs <= silenceToleratedMs(known.beat)
        if (unchanged) return commands
        break
      }
      case 'hail-received':
        commands.push(...this.hailed(), { kind: 'answer-hail', to: input.from, nonce: input.nonce, rendering: this.holding() })
        break
      case 'hail-answered':
      case 'indirect-hail-requested':
      case 'indirect-hail-answered':
      case 'peer-disconnected':
      case 'hail-all':
        commands.push(...this.liveness.handle(input))
        break
      case 'claim-seen': {
        if (input.from === this.init.self) break
        const mine = this.held().find((lease) => covers(lease, input.target))
        if (mine !== undefined) commands.push({ kind: 'send-claim', to: input.from, target: mine })
        else this.rememberRival(input.from, input.target)
        break
      }
      case 'shutdown':
        return this.shutdown()
    }
    commands.push(...this.reconcile(input.kind === 'view-changed'))
    return commands
  }

  private heartbeatIfDue (): AgentCommand[] {
    if (this.nowMs < this.nextHeartbeatMs) return []
    this.nextHeartbeatMs = this.nowMs + HEARTBEAT_INTERVAL_MS
    const lease = this.holding()
    return [{ kind: 'send-heartbeat', beat: { lease, idle: lease === null, mayRender: this.mayRender } }]
  }

  /**
   * A peer hails us: our answer vouches for one lease, and the hailer frees the rest the
   * moment it arrives, perhaps after we started one of them. So the claims beyond the one
   * answered for are released now, and none is claimed ahead until the answer can no
   * longer arrive: what the hailer frees is then truly free.
   */
  private hailed (): AgentCommand[] {
    this.hailedAtMs = this.nowMs
    const answered = this.holding()
    const released = this.queued.filter(({ target }) => target !== answered)
    this.queued = this.queued.filter(({ target }) => target === answered)
    return released.map(({ target }) => this.release(target, 'hailed: the answer vouches for one lease'))
  }

  /**
   * The renderer is free: start the oldest settled claim if its lease is still ours, else
   * withdraw it (releasing it where it is still ours to release) and look at the next.
   */
  private startNextIfSettled (): AgentCommand[] {
    const commands: AgentCommand[] = []
    for (let next = this.queued[0]; this.rendering === null && next !== undefined && this.nowMs >= next.startAtMs; next = this.queued[0]) {
      this.queued.shift()
      const { target } = next
      const loss = this.lossOf(target)
      if (loss !== null) {
        if (loss.release) commands.push(this.release(target, loss.reason))
        continue
      }
      const block = this.blockOf(target)
      if (block === undefined) throw new RangeError(`block ${target.block} of job ${target.jobId} vanished from a view that leases it to ${this.init.self}`)
      this.rendering = { target, sinceMs: this.nowMs }
      commands.push(
        { kind: 'append', body: { type: 'block.started', ...target } },
        { kind: 'start-renderer', target, frames: { start: block.frameStart, end: block.frameEnd } }
      )
    }
    return commands
  }

  /**
   * Queued claims whose lease is gone (a rival outranked us, the job was halted) are dropped
   * at once, released where still ours. A claim the view does not count yet (its epoch is
   * ahead of the block's) is judged when it settles, as a lone claim is.
   */
  private dropLostClaims (): AgentCommand[] {
    // Outside its hours, or finishing before it stops, a node starts nothing new: others may take these now.
    if (!this.mayRender) return this.queued.splice(0).map(({ target }) => this.release(target, 'the node may not render now'))
    const commands: AgentCommand[] = []
    this.queued = this.queued.filter(({ target, startAtMs }) => {
      if (this.nowMs < startAtMs && (this.blockOf(target)?.epoch ?? 0) < target.epoch) return true
      const loss = this.lossOf(target)
      if (loss?.release === true) commands.push(this.release(target, loss.reason))
      return loss === null
    })
    return commands
  }

  private blockOf (target: BlockRef): FarmView['jobs'][number]['blocks'][number] | undefined {
    return this.view.jobs.find((job) => job.id === target.jobId)?.blocks[target.block]
  }

  /** How long this block should render, by its job's average frame time; null before any frame of the job finished. */
  private expectedMs (target: BlockRef): number | null {
    const job = this.view.jobs.find((candidate) => candidate.id === target.jobId)
    const block = job?.blocks[target.block]
    const averageFrameMs = job?.renderTime.averageFrameMs ?? null
    if (block === undefined || averageFrameMs === null) return null
    return averageFrameMs * (block.frameEnd - block.frameStart + 1)
  }

  /**
   * Whether to claim another block now: idle, or busy with room for another lease and what
   * it holds expected to be done within PREFETCH_LEAD_MS. Unknown times (a job's first
   * blocks) claim nothing ahead: a long block would hold its successor from idle nodes.
   */
  private wantsClaim (): boolean {
    const held = this.held()
    if (held.length === 0) return true
    if (held.length >= MAX_HELD_LEASES || this.nowMs - this.hailedAtMs < HAIL_ANSWER_WINDOW_MS) return false
    let busyMs = 0
    for (const target of held) {
      const expected = this.expectedMs(target)
      if (expected === null) return false
      busyMs += this.rendering?.target === target ? Math.max(0, expected - (this.nowMs - this.rendering.sinceMs)) : expected
    }
    return busyMs <= PREFETCH_LEAD_MS
  }

  /** Null while this node may render `target`; otherwise why not, and whether the lease is still ours to release. */
  private lossOf (target: BlockRef): Loss | null {
    if (!holdsLease(this.view, this.init.self, target)) return { reason: 'lost the lease', release: false }
    const job = this.view.jobs.find((candidate) => candidate.id === target.jobId)
    if (job?.enabled === false) return { reason: 'the job was disabled', release: true }
    if (job?.halted === true) return { reason: 'the job was halted', release: true }
    return null
  }

  private release (target: BlockRef, reason: string): AgentCommand {
    this.released.add(leaseKey(this.init.self, target))
    return { kind: 'append', body: { type: 'block.released', ...target, reason } }
  }

  /** The finish event's per-frame times, for every frame of the block the view shows. */
  private frameMsOf (input: Extract<AgentInput, { kind: 'render-finished' }>): number[] {
    const block = this.blockOf(input.target)
    const frames = input.frames.map(({ frame }) => frame)
    // A block gone from the view (its job deleted) is finished as the renderer timed it.
    const range = block === undefined
      ? { start: frames.reduce((low, frame) => Math.min(low, frame), Infinity), end: frames.reduce((high, frame) => Math.max(high, frame), -Infinity) }
      : { start: block.frameStart, end: block.frameEnd }
    return frameTimesInOrder(range, input.frames, input.wallMs, FRAME_MS_MAX)
  }

  /** The renderer ended; its outcome is written only if it is still the block we render. */
  private end (target: BlockRef, body: BodyOf<'block.finished' | 'block.failed'>): AgentCommand[] {
    if (this.rendering === null || !sameBlock(this.rendering.target, target)) return []
    this.rendering = null
    return [{ kind: 'append', body }]
  }

  private shutdown (): AgentCommand[] {
    const { rendering, queued } = this
    this.stopped = true
    this.rendering = null
    this.queued = []
    const reason = 'node shutting down'
    return [
      ...(rendering === null ? [] : [{ kind: 'stop-renderer', target: rendering.target, reason } as const, this.release(rendering.target, reason)]),
      ...queued.map(({ target }) => this.release(target, reason))
    ]
  }

  /** `fresh`: the view reflects every event this agent asked to append, so the log's leases can be trusted. */
  private reconcile (fresh: boolean): AgentCommand[] {
    if (!this.seenView) return []
    const commands: AgentCommand[] = []
    if (!this.announced && !this.view.nodes.some((node) => node.id === this.init.self)) {
      this.announced = true
      commands.push({ kind: 'append', body: { type: 'node.settings', node: this.init.self, changes: { name: this.init.name } } })
    }
    const { rendering } = this
    if (rendering !== null) {
      const loss = this.lossOf(rendering.target)
      if (loss !== null) {
        this.rendering = null
        commands.push({ kind: 'stop-renderer', target: rendering.target, reason: loss.reason })
        if (loss.release) commands.push(this.release(rendering.target, loss.reason))
      }
    }
    commands.push(...this.dropLostClaims())
    if (fresh) commands.push(...this.releaseOrphans())
    commands.push(...this.startNextIfSettled(), ...this.decide())
    return commands
  }

  /** Leases the log says we hold but our renderer does not run (we restarted): give them back at once. */
  private releaseOrphans (): AgentCommand[] {
    const mine = new Set(this.held().map((lease) => leaseKey(this.init.self, lease)))
    const held = this.view.nodes.find((node) => node.id === this.init.self)?.holding ?? []
    const shown = new Set(held.map((lease) => leaseKey(this.init.self, lease)))
    for (const key of this.released) if (!shown.has(key)) this.released.delete(key)
    return held
      .filter((lease) => !mine.has(leaseKey(this.init.self, lease)) && !this.released.has(leaseKey(this.init.self, lease)))
      .map((lease) => this.release({ jobId: lease.jobId, block: lease.block, epoch: lease.epoch }, 'not rendering it: the node restarted or its renderer stopped'))
  }

  private rememberRival (peer: string, target: BlockRef): void {
    const key = rivalKey(target)
    const known = this.rivals.get(key)
    if (known !== undefined) {
      known.add(peer)
      return
    }
    this.rivals.set(key, new Set([peer]))
    // Only claims of the last few blocks matter: the ones we may be about to claim too.
    for (const oldest of this.rivals.keys()) {
      if (this.rivals.size <= MAX_REMEMBERED_RIVAL_BLOCKS) break
      this.rivals.delete(oldest)
    }
  }

  private decide (): AgentCommand[] {
    if (!this.wantsClaim()) return []
    const leases = this.held().length
    const live = this.liveness.live(this.nowMs)
    const peers = `${this.liveness.revision}|${this.mayRender}|${leases}|${this.liveness.liveRevision}`
    const { waiting } = this
    const due = waiting !== null && this.nowMs >= waiting.claimAtMs
    if (!due && this.decided?.view === this.view && this.decided.peers === peers) return []
    this.decided = { view: this.view, peers }
    const candidates = candidatesOf(this.view, { id: this.init.self, leases, mayRender: this.mayRender }, live)
    const view = withFreedLeases(this.view, (holder, lease) => this.liveness.isFreed(holder, lease))
    const decision = decideClaim(view, this.init.self, candidates, this.liveness.dead())
    this.waiting = null
    if (decision.kind === 'idle') return []
    const { target } = decision
    const same = waiting !== null && sameBlock(waiting.target, target)
    const delayMs = decision.delayMs > 0 ? decision.delayMs : decision.contested ? Math.floor(this.init.random() * CLAIM_JITTER_MS) : 0
    if (delayMs > 0 && !(same && due)) {
      this.waiting = { target, claimAtMs: same ? waiting.claimAtMs : this.nowMs + delayMs }
      return []
    }
    this.queued.push({ target, startAtMs: this.nowMs + CLAIM_SETTLE_MS })
    // Tell peers at once that we are no longer idle, so their hand-outs skip us.
    if (leases === 0) this.nextHeartbeatMs = this.nowMs
    // Sent straight to every live peer too, not by gossip alone: a push that a burst holds up
    // or loses would leave a rival that claimed beside us rendering past the settle window.
    const told = new Set([...(this.rivals.get(rivalKey(target)) ?? []), ...live.map(({ peer }) => peer)])
    return [{ kind: 'append', body: { type: 'block.claimed', ...target } }, ...[...told].map((to): AgentCommand => ({ kind: 'send-claim', to, target }))]
  }
}
