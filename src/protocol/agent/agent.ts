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
 */
import type { BodyOf } from '../events.js'
import { frameTimesInOrder } from '../frames.js'
import { covers, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS, Liveness, leaseKey, type LeaseRef, type LivenessFootprint } from '../liveness.js'
import { CLAIM_JITTER_MS, CLAIM_SETTLE_MS, decideClaim, holdsLease, type BlockRef } from '../scheduling.js'
import { FRAME_MS_MAX } from '../vocabulary.js'
import type { FarmView } from '../view.js'
import { candidatesOf, leasesByHolder, withFreedLeases } from './peers.js'
import { EMPTY_VIEW, type AgentCommand, type AgentInput, type AgentPhase } from './types.js'

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

/** Blocks whose rival claims an idle agent remembers; a few hand-outs' worth. */
const MAX_REMEMBERED_RIVAL_BLOCKS = 64

function rivalKey (target: BlockRef): string {
  return `${target.jobId}/${target.block}/${target.epoch}`
}

export class Agent {
  private phase: AgentPhase = { kind: 'idle' }
  private view: FarmView = EMPTY_VIEW
  private seenView = false
  private announced = false
  private nowMs = 0
  private mayRender = true
  private nextHeartbeatMs = 0
  private readonly liveness: Liveness
  /**
   * Leases this agent released that a fresh view may still show it holding, so a release is
   * written once. Forgotten once the view no longer shows the lease: a lease ended never
   * comes back to its holder.
   */
  private readonly released = new Set<string>()
  /**
   * Rival claims heard while we held nothing, by block and epoch: should we claim the same
   * block before our view shows theirs, we send them ours at once, as a holder would.
   */
  private readonly rivals = new Map<string, Set<string>>()
  /** What the last decision saw; deciding again on the same inputs would decide the same. */
  private decided: { readonly view: FarmView, readonly peers: string } | null = null

  constructor (private readonly init: AgentInit) {
    this.liveness = new Liveness({ self: init.self, random: init.random })
  }

  get current (): AgentPhase {
    return this.phase
  }

  /** How much the agent holds now, for bounds checks: each count stays bounded however long it runs. */
  footprint (): AgentFootprint {
    return { released: this.released.size, rivalBlocks: this.rivals.size, liveness: this.liveness.footprint() }
  }

  /** The lease this node holds now, from its own state: what a hail is answered with. */
  holding (): LeaseRef | null {
    return this.phase.kind === 'settling' || this.phase.kind === 'rendering' ? this.phase.target : null
  }

  handle (input: AgentInput): AgentCommand[] {
    if (this.phase.kind === 'stopped') return []
    this.nowMs = Math.max(this.nowMs, input.nowMs)
    const commands: AgentCommand[] = []
    switch (input.kind) {
      case 'tick':
        this.mayRender = input.mayRender
        commands.push(...this.liveness.handle({ kind: 'tick', nowMs: input.nowMs }), ...this.heartbeatIfDue(), ...this.settleIfDue())
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
        const unchanged = known?.kind === 'alive' && known.beat?.mayRender === input.beat.mayRender && input.nowMs - known.lastHeardMs <= HEARTBEAT_TIMEOUT_MS
        if (unchanged) return commands
        break
      }
      case 'hail-received':
        commands.push({ kind: 'answer-hail', to: input.from, nonce: input.nonce, rendering: this.holding() })
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
        const mine = this.holding()
        if (mine !== null && covers(mine, input.target)) commands.push({ kind: 'send-claim', to: input.from, target: mine })
        else if (mine === null) this.rememberRival(input.from, input.target)
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

  /** The settle window is over: start the renderer if the lease is still ours, else withdraw. */
  private settleIfDue (): AgentCommand[] {
    const phase = this.phase
    if (phase.kind !== 'settling' || this.nowMs < phase.startAtMs) return []
    const { target } = phase
    const loss = this.lossOf(target)
    if (loss !== null) {
      this.phase = { kind: 'idle' }
      return loss.release ? [this.release(target, loss.reason)] : []
    }
    const block = this.view.jobs.find((job) => job.id === target.jobId)?.blocks[target.block]
    if (block === undefined) throw new RangeError(`block ${target.block} of job ${target.jobId} vanished from a view that leases it to ${this.init.self}`)
    this.phase = { kind: 'rendering', target, sinceMs: this.nowMs }
    return [
      { kind: 'append', body: { type: 'block.started', ...target } },
      { kind: 'start-renderer', target, frames: { start: block.frameStart, end: block.frameEnd } }
    ]
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
    const block = this.view.jobs.find((job) => job.id === input.target.jobId)?.blocks[input.target.block]
    const frames = input.frames.map(({ frame }) => frame)
    // A block gone from the view (its job deleted) is finished as the renderer timed it.
    const range = block === undefined
      ? { start: frames.reduce((low, frame) => Math.min(low, frame), Infinity), end: frames.reduce((high, frame) => Math.max(high, frame), -Infinity) }
      : { start: block.frameStart, end: block.frameEnd }
    return frameTimesInOrder(range, input.frames, input.wallMs, FRAME_MS_MAX)
  }

  /** The renderer ended; its outcome is written only if it is still the block we render. */
  private end (target: BlockRef, body: BodyOf<'block.finished' | 'block.failed'>): AgentCommand[] {
    if (this.phase.kind !== 'rendering' || !sameBlock(this.phase.target, target)) return []
    this.phase = { kind: 'idle' }
    return [{ kind: 'append', body }]
  }

  private shutdown (): AgentCommand[] {
    const phase = this.phase
    this.phase = { kind: 'stopped' }
    if (phase.kind === 'rendering') {
      return [{ kind: 'stop-renderer', target: phase.target, reason: 'node shutting down' }, this.release(phase.target, 'node shutting down')]
    }
    return phase.kind === 'settling' ? [this.release(phase.target, 'node shutting down')] : []
  }

  /** `fresh`: the view reflects every event this agent asked to append, so the log's leases can be trusted. */
  private reconcile (fresh: boolean): AgentCommand[] {
    if (!this.seenView) return []
    const commands: AgentCommand[] = []
    if (!this.announced && !this.view.nodes.some((node) => node.id === this.init.self)) {
      this.announced = true
      commands.push({ kind: 'append', body: { type: 'node.settings', node: this.init.self, changes: { name: this.init.name } } })
    }
    const phase = this.phase
    if (phase.kind === 'rendering') {
      const loss = this.lossOf(phase.target)
      if (loss !== null) {
        this.phase = { kind: 'idle' }
        commands.push({ kind: 'stop-renderer', target: phase.target, reason: loss.reason })
        if (loss.release) commands.push(this.release(phase.target, loss.reason))
      }
    }
    if (fresh) commands.push(...this.releaseOrphans())
    commands.push(...this.decide())
    return commands
  }

  /** Leases the log says we hold but our renderer does not run (we restarted): give them back at once. */
  private releaseOrphans (): AgentCommand[] {
    const mine = this.holding()
    const held = this.view.nodes.find((node) => node.id === this.init.self)?.holding ?? []
    const shown = new Set(held.map((lease) => leaseKey(this.init.self, lease)))
    for (const key of this.released) if (!shown.has(key)) this.released.delete(key)
    return held
      .filter((lease) => (mine === null || !sameBlock(lease, mine)) && !this.released.has(leaseKey(this.init.self, lease)))
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
    const phase = this.phase
    if (phase.kind !== 'idle' && phase.kind !== 'waiting') return []
    const live = this.liveness.live(this.nowMs)
    const peers = `${this.liveness.revision}|${this.mayRender}|${live.map(({ peer, beat }) => `${peer}:${beat.mayRender}`).join(',')}`
    const due = phase.kind === 'waiting' && this.nowMs >= phase.claimAtMs
    if (!due && this.decided?.view === this.view && this.decided.peers === peers) return []
    this.decided = { view: this.view, peers }
    const candidates = candidatesOf(this.view, { id: this.init.self, idle: true, mayRender: this.mayRender }, live)
    const view = withFreedLeases(this.view, (holder, lease) => this.liveness.isFreed(holder, lease))
    const decision = decideClaim(view, this.init.self, candidates, this.liveness.dead())
    if (decision.kind === 'idle') {
      this.phase = { kind: 'idle' }
      return []
    }
    const { target } = decision
    const same = phase.kind === 'waiting' && sameBlock(phase.target, target)
    const delayMs = decision.delayMs === 0 ? Math.floor(this.init.random() * CLAIM_JITTER_MS) : decision.delayMs
    if (delayMs === 0 || (same && due)) {
      this.phase = { kind: 'settling', target, startAtMs: this.nowMs + CLAIM_SETTLE_MS }
      // Tell peers at once that we are no longer idle, so their hand-outs skip us.
      this.nextHeartbeatMs = this.nowMs
      // Sent straight to every live peer too, not by gossip alone: a push that a burst holds up
      // or loses would leave a rival that claimed beside us rendering past the settle window.
      const told = new Set([...(this.rivals.get(rivalKey(target)) ?? []), ...live.map(({ peer }) => peer)])
      return [{ kind: 'append', body: { type: 'block.claimed', ...target } }, ...[...told].map((to): AgentCommand => ({ kind: 'send-claim', to, target }))]
    }
    this.phase = { kind: 'waiting', target, claimAtMs: same ? phase.claimAtMs : this.nowMs + delayMs }
    return []
  }
}
