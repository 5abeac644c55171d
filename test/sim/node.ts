/**
 * One simulated peer: the real Replica and the real Agent, driven the way the real node
 * will drive them. Its log survives a crash (LevelDB); its renderer and its agent do not.
 * Paused (SIGSTOP), it processes nothing: messages wait in its socket buffers until the
 * peers' keep-alive gives up on it, and its renderer is stopped with it (the node's
 * renderers are stopped and continued with their node) and runs on from where it was.
 * Restarted, it first catches up with every peer it reaches (their answers to its pulls)
 * and does nothing else until then, as a recovering node must (never claim on a stale log).
 * Its wall clock is off by a fixed offset, as an unsynchronised machine's is.
 */
import { Agent, BUSY_TICK_MS } from '../../src/protocol/agent/agent.js'
import { HeartbeatPace } from '../../src/protocol/heartbeat-pace.js'
import { hailMessagesOf, receivedHail } from '../../src/protocol/agent/hail-messages.js'
import type { AgentCommand, AgentInput } from '../../src/protocol/agent/types.js'
import type { FarmAuthority } from '../../src/protocol/authority.js'
import type { DraftBody, VerifiedEvent } from '../../src/protocol/events.js'
import { equalBytes, place } from '../../src/protocol/feed.js'
import type { FrameRange } from '../../src/protocol/frames.js'
import type { FarmView } from '../../src/protocol/view.js'
import type { LeaseRef } from '../../src/protocol/liveness.js'
import { Replica } from '../../src/protocol/replica.js'
import type { BlockRef } from '../../src/protocol/scheduling.js'
import type { Signer } from '../../src/protocol/signing.js'
import { missingFrom } from '../../src/protocol/version-vector.js'
import type { Endpoint, Message, Network } from './network.js'
import type { FaultProfile } from './profiles.js'
import type { Prng } from './prng.js'
import type { EventQueue } from './queue.js'
import type { Recorder } from './recorder.js'

/** Anti-entropy: each node swaps version vectors with one random peer this often. */
export const PULL_INTERVAL_MS = 1_000
/** A stopped peer's connection is dropped after this much silence: the mesh's keep-alive timeout (src/node/mesh/config.ts). */
export const KEEP_ALIVE_TIMEOUT_MS = 2_500
/** A killed process's connections close at once (DESIGN: ~20 ms). */
export const DISCONNECT_DETECT_MS = 20
/** Remote events arriving within this window are reduced into one view change. */
export const VIEW_BATCH_MS = 10
/** Wall clock of the virtual epoch (events carry wall time). */
const WALL_CLOCK_ORIGIN_MS = 1_800_000_000_000

/** How a job renders in this run: time per frame, and the block that fails fatally (until its artist fixes the scene and retries), if any. */
export interface JobPlan {
  readonly frameMs: number
  readonly fatalBlock: number | null
}

export interface SimContext {
  readonly queue: EventQueue
  readonly network: Network
  readonly recorder: Recorder
  readonly profile: FaultProfile
  /** Render plans by job id, known once the job is submitted (its id comes from its submit event). */
  readonly plans: ReadonlyMap<string, JobPlan>
  /** The farm's founder: the controller, a wrangler that may route other nodes. */
  readonly authority: FarmAuthority
  /**
   * Heartbeats paced as the real node paces them (HeartbeatPace: an idle node that repeats
   * itself beats once an idle interval), as the scale bench runs farms of hundreds; off,
   * every beat the agent asks for goes out, as the invariant matrix has always run.
   */
  readonly pacedHeartbeats: boolean
}

type Status = 'up' | 'crashed' | 'paused'

/** A running renderer: what it renders, when it will end (pushed back while its node is stopped), and how. */
interface Renderer {
  readonly target: BlockRef
  readonly generation: number
  readonly endsAtMs: number
  readonly outcome: AgentInput
}

export class SimNode implements Endpoint {
  readonly replica: Replica
  /** The node's durable log, by author, in seq order. */
  private readonly log = new Map<string, VerifiedEvent[]>()
  private agent: Agent
  /** Which of the agent's heartbeats go out; a restarted process paces afresh. */
  private pace = new HeartbeatPace()
  status: Status = 'up'
  private pausedAtMs = 0
  private inbox: (() => void)[] = []
  private renderer: Renderer | null = null
  /** The view the agent last saw: what its decisions were made on. */
  private agentView: FarmView | null = null
  private generation = 0
  /** The moment the node's next tick is planned for: one at a time, as the real driver's clock. */
  private tickAtMs = Number.POSITIVE_INFINITY
  private viewDirty = false
  /** After a restart: the peers whose answers to our catch-up pull we still wait for; the agent hears nothing until then. */
  private recovering: Set<string> | null = null
  private nextPullMs: number

  /** `clockOffsetMs`: how far this node's wall clock is from true time. */
  constructor (
    private readonly context: SimContext,
    readonly index: number,
    private readonly signer: Signer,
    private readonly prng: Prng,
    private readonly clockOffsetMs: number
  ) {
    this.replica = new Replica({ authority: context.authority })
    this.agent = this.freshAgent()
    this.nextPullMs = prng.int(0, PULL_INTERVAL_MS)
    context.network.attach(this.id, this)
  }

  get id (): string {
    return this.signer.author
  }

  private get now (): number {
    return this.context.queue.nowMs
  }

  /** This node's wall clock, which events carry and the HLC follows: the virtual time, off by the node's skew. */
  private get wallClockMs (): number {
    return WALL_CLOCK_ORIGIN_MS + this.now + this.clockOffsetMs
  }

  private freshAgent (): Agent {
    return new Agent({ self: this.id, name: `node-${this.index}`, random: () => this.prng.next() })
  }

  /** Starts the node's clock; the first tick comes after a random offset so nodes do not tick in lockstep. */
  start (): void {
    this.flushView()
    this.armTick(this.now + this.prng.int(1, BUSY_TICK_MS))
  }

  /** Plans the next tick for `atMs`, unless one is planned sooner. */
  private armTick (atMs: number): void {
    if (atMs >= this.tickAtMs) return
    this.tickAtMs = atMs
    this.context.queue.at(atMs, () => {
      if (this.tickAtMs !== atMs) return
      this.tickAtMs = Number.POSITIVE_INFINITY
      this.tick()
      this.armTick(this.nextTickMs())
    })
  }

  /** When the agent asks to be ticked, as the real driver does; while down or recovering, the node looks again a busy tick later. */
  private nextTickMs (): number {
    const atMs = this.status === 'up' && this.recovering === null ? this.agent.nextTickAtMs(this.now) : null
    return atMs ?? this.now + BUSY_TICK_MS
  }

  /** A controller action (submit, log record) written in this node's feed; null while the node is not up. */
  write (body: DraftBody): VerifiedEvent | null {
    if (this.status !== 'up') return null
    const verified = this.appendOwn(body)
    this.flushView()
    return verified
  }

  receive (from: string, message: Message): void {
    if (this.status === 'crashed') return
    if (this.status === 'paused') {
      if (this.now - this.pausedAtMs < KEEP_ALIVE_TIMEOUT_MS) this.inbox.push(() => { this.process(from, message) })
      return
    }
    this.process(from, message)
  }

  crash (): void {
    this.killRenderer()
    this.status = 'crashed'
    this.inbox = []
    this.context.network.setDown(this.id, true)
    this.context.recorder.note(`${this.now} ${this.index} crash`)
  }

  /** Graceful shutdown: the agent releases what it holds, then the process exits. */
  shutdown (): void {
    this.run(this.agent.handle({ kind: 'shutdown', nowMs: this.now }))
    this.crash()
  }

  restart (): void {
    this.status = 'up'
    this.context.network.setDown(this.id, false)
    this.agent = this.freshAgent()
    this.pace = new HeartbeatPace()
    this.context.recorder.note(`${this.now} ${this.index} restart`)
    this.recover(new Set(this.context.network.peersOf(this.id)))
  }

  /** Pulls from every peer in `awaited` (again every PULL_INTERVAL_MS) until each answered or is gone; then the agent starts. */
  private recover (awaited: Set<string>): void {
    const { network, queue } = this.context
    for (const peer of awaited) if (!network.linked(this.id, peer)) awaited.delete(peer)
    if (awaited.size === 0) {
      this.recovering = null
      this.context.recorder.note(`${this.now} ${this.index} caught up`)
      this.flushView()
      return
    }
    this.recovering = awaited
    for (const peer of awaited) network.send(this.id, peer, { kind: 'pull', vector: this.replica.versionVector(), answerAlways: true, connecting: true }, 'stream')
    queue.after(PULL_INTERVAL_MS, () => { if (this.recovering === awaited && this.status === 'up') this.recover(awaited) })
  }

  pause (): void {
    this.status = 'paused'
    // The renderer stops with its node: its end is pushed back on resume.
    if (this.renderer !== null) this.renderer = { ...this.renderer, generation: ++this.generation }
    this.pausedAtMs = this.now
    this.context.recorder.note(`${this.now} ${this.index} pause`)
  }

  resume (): void {
    this.status = 'up'
    if (this.renderer !== null) this.armRenderer({ ...this.renderer, generation: ++this.generation, endsAtMs: this.renderer.endsAtMs + this.now - this.pausedAtMs })
    const inbox = this.inbox
    this.inbox = []
    this.context.recorder.note(`${this.now} ${this.index} resume ${inbox.length}`)
    for (const deliver of inbox) deliver()
    if (this.now - this.pausedAtMs >= KEEP_ALIVE_TIMEOUT_MS) this.reconnect()
    this.flushView()
  }

  /** A new connection: both sides swap version vectors (DESIGN: pull on every new connection). */
  reconnect (): void {
    this.pace.peerConnected(this.now)
    for (const peer of this.context.network.peersOf(this.id)) this.pullFrom(peer, true)
  }

  /** Asks `peer` for what we lack; `connecting`: on a connection just made. */
  pullFrom (peer: string, connecting = false): void {
    this.context.network.send(this.id, peer, { kind: 'pull', vector: this.replica.versionVector(), answerAlways: false, connecting }, 'stream')
  }

  disconnected (peer: string): void {
    if (this.status === 'up') this.feed({ kind: 'peer-disconnected', peer, nowMs: this.now })
  }

  events (): number {
    return [...this.log.values()].reduce((sum, feed) => sum + feed.length, 0)
  }

  private tick (): void {
    if (this.status !== 'up') return
    this.feed({ kind: 'tick', nowMs: this.now, mayRender: true })
    if (this.now >= this.nextPullMs) {
      this.nextPullMs = this.now + PULL_INTERVAL_MS
      const peers = this.context.network.peersOf(this.id)
      if (peers.length > 0) this.pullFrom(this.prng.pick(peers))
    }
  }

  private feed (input: AgentInput): void {
    if (this.recovering !== null) return
    this.run(this.agent.handle(input))
    this.armTick(this.nextTickMs())
  }

  private process (from: string, message: Message): void {
    const nowMs = this.now
    switch (message.kind) {
      case 'event':
        this.admit(from, [message.event])
        return
      case 'events':
        this.admit(from, message.events)
        if (this.recovering?.delete(from) === true && this.recovering.size === 0) this.recover(this.recovering)
        return
      case 'pull': {
        if (message.connecting) this.pace.peerConnected(nowMs)
        const wanted = missingFrom(message.vector, this.replica.versionVector())
        const events = wanted.flatMap((range) => (this.log.get(range.author) ?? []).slice(range.fromSeq - 1, range.toSeq))
        if (events.length > 0 || message.answerAlways) this.context.network.send(this.id, from, { kind: 'events', events }, 'stream')
        return
      }
      case 'heartbeat':
        this.catchUp(from, message.feedSeq)
        this.feed({ kind: 'heartbeat-received', from, nowMs, beat: message.beat })
        return
      case 'hail': {
        const { input, feed } = receivedHail(from, nowMs, message.message, (author) => this.heldOf(author))
        if (feed !== null) this.catchUp(feed.author, feed.feedSeq)
        this.feed(input)
      }
    }
  }

  private heldOf (author: string): number {
    return this.replica.head(author)?.seq ?? 0
  }

  /** `author` says its feed is `feedSeq` long; if we hold less, a push was lost: pull at once rather than wait for anti-entropy. */
  private catchUp (author: string, feedSeq: number): void {
    if (feedSeq > this.heldOf(author) && this.context.network.linked(this.id, author)) this.pullFrom(author)
  }

  /** Places each event in its author's feed, as the store does after verifying it. */
  private admit (from: string, events: readonly VerifiedEvent[]): void {
    let gap = false
    let committed = false
    for (const verified of events) {
      const placement = place(this.replica.head(verified.event.author), verified, this.wallClockMs)
      if (placement.kind === 'gap') gap = true
      if (placement.kind === 'held') {
        const held = this.log.get(verified.event.author)?.[verified.event.seq - 1]
        if (held !== undefined && !equalBytes(held.link, verified.link)) this.context.recorder.problems.push(`fork of ${verified.event.author}#${verified.event.seq} at node ${this.index}`)
      }
      if (placement.kind !== 'next') continue
      this.commit(verified)
      committed = true
      const { body, author } = verified.event
      if (body.type === 'block.claimed' && this.status === 'up') this.feed({ kind: 'claim-seen', from: author, nowMs: this.now, target: { jobId: body.jobId, block: body.block, epoch: body.epoch } })
    }
    if (gap) this.pullFrom(from)
    if (committed && !this.viewDirty) {
      this.viewDirty = true
      // Events arriving close together make one view change, as a real node batches them.
      this.context.queue.after(VIEW_BATCH_MS, () => { this.flushView() })
    }
  }

  private ownClaim (target: BlockRef): VerifiedEvent | undefined {
    return this.log.get(this.id)?.findLast(({ event: { body } }) => body.type === 'block.claimed' && body.jobId === target.jobId && body.block === target.block && body.epoch === target.epoch)
  }

  private commit (verified: VerifiedEvent): void {
    const feed = this.log.get(verified.event.author) ?? []
    feed.push(verified)
    this.log.set(verified.event.author, feed)
    this.replica.commit(verified)
  }

  private appendOwn (body: DraftBody): VerifiedEvent {
    const verified = this.replica.draft(this.signer, this.wallClockMs, body)
    this.commit(verified)
    this.observeOwn(body)
    this.context.recorder.note(`${this.now} ${this.index} append ${body.type} ${'jobId' in body ? `${body.jobId}/${'block' in body ? body.block : ''}/${'epoch' in body ? body.epoch : ''}` : ''}`)
    this.context.network.gossip(this.id, { kind: 'event', event: verified })
    return verified
  }

  /** What the invariants need of our own block facts; a claim on a job the agent saw steered off is a bug at once. */
  private observeOwn (body: DraftBody): void {
    const { recorder } = this.context
    if (body.type === 'block.finished') recorder.finished(this.id, body, this.now)
    if (body.type !== 'block.claimed') return
    recorder.claimed(this.id, body, this.now)
    const job = this.agentView?.jobs.find((candidate) => candidate.id === body.jobId)
    const off = job === undefined ? 'unknown or deleted' : job.halted ? 'halted' : job.enabled ? null : 'disabled'
    if (off !== null) recorder.problems.push(`steered: node ${this.index} claimed block ${body.block} of job ${body.jobId.slice(0, 8)} at ${this.now} ms on a view that shows the job ${off}`)
  }

  private flushView (): void {
    if (this.status !== 'up') return
    this.viewDirty = false
    this.agentView = this.replica.view()
    this.feed({ kind: 'view-changed', nowMs: this.now, view: this.agentView })
  }

  private run (commands: readonly AgentCommand[]): void {
    let appended = false
    for (const command of commands) {
      if (command.kind === 'append') {
        this.appendOwn(command.body)
        appended = true
      } else {
        this.carryOut(command)
      }
    }
    if (appended) this.flushView()
  }

  private carryOut (command: Exclude<AgentCommand, { kind: 'append' }>): void {
    const { network, recorder } = this.context
    switch (command.kind) {
      case 'start-renderer':
        this.startRenderer(command.target, command.frames)
        return
      case 'stop-renderer':
        if (command.reason === 'lost the lease') recorder.counts.lostLeaseStops++
        recorder.stops.push({ node: this.id, target: command.target, reason: command.reason, atMs: this.now })
        this.killRenderer()
        return
      case 'send-claim': {
        const claim = this.ownClaim(command.target)
        if (claim !== undefined) network.send(this.id, command.to, { kind: 'event', event: claim }, 'stream')
        return
      }
      case 'send-heartbeat': {
        const feedSeq = this.heldOf(this.id)
        const due = !this.context.pacedHeartbeats || this.pace.due(JSON.stringify([command.beat, feedSeq]), command.beat.lease !== null, this.now)
        if (due) network.gossip(this.id, { kind: 'heartbeat', beat: command.beat, feedSeq })
        return
      }
      case 'answer-hail':
      case 'send-hail':
      case 'send-indirect-hail':
      case 'send-indirect-answer':
        if (command.kind === 'send-hail') recorder.counts.hails++
        if (command.kind === 'send-indirect-hail') recorder.counts.indirectHails++
        for (const { to, message } of hailMessagesOf(command, this.heldOf(this.id))) network.send(this.id, to, { kind: 'hail', message }, 'stream')
        return
      case 'declare-dead':
        recorder.declared(this.id, command.peer, this.now)
        recorder.note(`${this.now} ${this.index} declares ${command.peer} dead`)
        return
      case 'lease-freed': {
        recorder.counts.leasesFreed++
        const rendering = recorder.rendering(command.holder)
        if (rendering !== null && rendering.jobId === command.lease.jobId && rendering.block === command.lease.block && rendering.epoch === command.lease.epoch) {
          recorder.problems.push(`honest: node ${this.index} freed ${leaseText(command.lease)} at ${this.now} ms while its holder was rendering it`)
        }
        recorder.note(`${this.now} ${this.index} freed ${leaseText(command.lease)} of ${command.holder}`)
        return
      }
      case 'answer-refused':
        recorder.note(`${this.now} ${this.index} refused an answer from ${command.from}: ${command.why}`)
    }
  }

  private startRenderer (target: BlockRef, frames: FrameRange): void {
    const { recorder, profile, plans } = this.context
    const plan = plans.get(target.jobId)
    if (plan === undefined) throw new RangeError(`no render plan for job ${target.jobId}`)
    recorder.renderStarted(this.id, target, this.now)
    recorder.note(`${this.now} ${this.index} render ${leaseText(target)}`)
    const frameMs = Math.round(plan.frameMs * (0.8 + 0.4 * this.prng.next()))
    const fatal = plan.fatalBlock === target.block
    const retryable = !fatal && this.prng.chance(profile.retryableFailure)
    const count = frames.end - frames.start + 1
    const wallMs = fatal ? Math.round(frameMs / 2) : frameMs * count
    const outcome: AgentInput = fatal || retryable
      ? { kind: 'render-failed', nowMs: this.now, target, failure: fatal ? 'fatal' : 'retryable', message: fatal ? 'scene file not found' : 'renderer exited with code 1', outputTail: ['Error: simulated'] }
      : { kind: 'render-finished', nowMs: this.now, target, wallMs, frames: Array.from({ length: count }, (_, offset) => ({ frame: frames.start + offset, ms: frameMs })) }
    this.armRenderer({ target, generation: ++this.generation, endsAtMs: this.now + wallMs, outcome })
  }

  /** Runs `renderer` until it ends, unless it is stopped, killed or paused (a new generation) first. */
  private armRenderer (renderer: Renderer): void {
    this.renderer = renderer
    this.context.queue.at(renderer.endsAtMs, () => {
      if (this.renderer?.generation !== renderer.generation) return
      this.renderer = null
      this.context.recorder.renderEnded(this.id, this.now)
      this.feed({ ...renderer.outcome, nowMs: this.now })
    })
  }

  private killRenderer (): void {
    if (this.renderer === null) return
    this.renderer = null
    this.generation++
    this.context.recorder.renderEnded(this.id, this.now)
  }
}

function leaseText (lease: LeaseRef): string {
  return `${lease.jobId.slice(0, 8)}/${lease.block}@${lease.epoch}`
}
