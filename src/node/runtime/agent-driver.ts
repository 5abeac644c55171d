/**
 * Drives the pure render agent (src/protocol/agent) with the real world: a clock that
 * ticks, the LevelDB store, the libp2p mesh and a real renderer. Every input goes through
 * one queue, so the agent sees them one at a time and its commands run in order, as in
 * the simulator (test/sim/node.ts), which this mirrors.
 */
import { Agent, IDLE_TICK_MS } from '../../protocol/agent/agent.js'
import type { AgentCommand, AgentInput } from '../../protocol/agent/types.js'
import { EventRejectedError } from '../../protocol/errors.js'
import type { VerifiedEvent } from '../../protocol/events.js'
import { hailMessagesOf, isHailCommand, receivedHail } from '../../protocol/agent/hail-messages.js'
import { HeartbeatPace } from '../../protocol/heartbeat-pace.js'
import { effectiveLimits, scheduleVerdict, type LocalTime, type ScheduleVerdict } from '../../protocol/schedule.js'
import type { BlockRef } from '../../protocol/scheduling.js'
import { clientStatus, type FarmView } from '../../protocol/view.js'
import type { Logger } from '../log.js'
import type { ReceivedDirect } from '../mesh/direct.js'
import { sayingOf } from '../mesh/ephemeral.js'
import type { Mesh } from '../mesh/mesh.js'
import type { EventStore } from '../store/event-store.js'
import { refusalOf, renderTaskFor, type LocalRenderSettings } from './render-task.js'
import type { RenderOutcome, RendererSlot } from './renderer-slot.js'

/** Remote events arriving within this window make one view change. */
export const VIEW_BATCH_MS = 10

export interface AgentDriverInit {
  readonly store: EventStore
  readonly mesh: Pick<Mesh, 'on' | 'publishEphemeral' | 'sendDirect' | 'requestPull' | 'reportOffence' | 'setWorkInFlight'>
  readonly renderer: RendererSlot
  readonly name: string
  /** False for a node that must never render (a controller). */
  readonly renders: boolean
  /** This node's own `[render]` settings: renderer paths and what it agrees to run. */
  readonly local: LocalRenderSettings
  readonly now: () => number
  readonly localTime: (epochMs: number) => LocalTime
  readonly logger: Logger
}

/** Uniform in [0, 1) from the system's cryptographic source: 53 random bits. */
function secureRandom (): number {
  const [high = 0, low = 0] = crypto.getRandomValues(new Uint32Array(2))
  return ((high >>> 5) * 67_108_864 + (low >>> 6)) / 9_007_199_254_740_992
}

function blockKey (target: BlockRef): string {
  return `${target.jobId}/${target.block}/${target.epoch}`
}

export class AgentDriver {
  private readonly agent: Agent
  private readonly self: string
  private queue: Promise<void> = Promise.resolve()
  private readonly unsubscribes: (() => void)[] = []
  private viewTimer: NodeJS.Timeout | undefined
  /** The agent's next tick, when the agent asked for it (Agent.nextTickAtMs): a settle window ends on time, and an idle node sleeps. */
  private clock: { readonly atMs: number, readonly timer: NodeJS.Timeout } | undefined
  /** Our own claims on the leases we hold, in wire form, so a colliding claimant can be sent one directly; each dropped once its lease is not ours. */
  private readonly claims = new Map<string, Uint8Array>()
  private stopped = false
  /** Which heartbeats go out: every one while holding or with news, fewer while idle. */
  private readonly heartbeatPace = new HeartbeatPace()
  /** Shutting down after the running block: keep the lease alive, take nothing new. */
  private finishing = false

  constructor (private readonly init: AgentDriverInit) {
    this.self = init.store.author
    // Hail nonces come from this, so it must not be predictable from the ones a peer has seen.
    this.agent = new Agent({ self: this.self, name: init.name, random: secureRandom })
  }

  /** What the node is doing, for its status line. */
  get phase (): Agent['current'] {
    return this.agent.current
  }

  start (): void {
    const { store, mesh } = this.init
    this.unsubscribes.push(
      store.onAppended((verified) => { this.appended(verified) }),
      mesh.on('ephemeral', ({ from, receivedAtMs, message }) => {
        this.catchUp(from, message.feedSeq)
        this.enqueue({ kind: 'heartbeat-received', from, nowMs: receivedAtMs, beat: { lease: message.lease, idle: message.idle, mayRender: message.mayRender } })
      }),
      mesh.on('direct', (received) => { this.direct(received) }),
      mesh.on('peer:disconnected', ({ peer }) => { this.enqueue({ kind: 'peer-disconnected', peer, nowMs: this.init.now() }) }),
      mesh.on('peer:connected', () => { this.heartbeatPace.peerConnected(this.init.now()) })
    )
    this.viewChanged()
    this.tick()
  }

  private tick (): void {
    this.enqueue({ kind: 'tick', nowMs: this.init.now(), mayRender: this.verdict().mayRender })
  }

  /** Arms the clock for the agent's next tick, once each step is done. */
  private armClock (): void {
    const nowMs = this.init.now()
    const atMs = this.agent.nextTickAtMs(nowMs)
    if (atMs !== null) this.armAt(atMs, nowMs)
  }

  /** Arms the clock for `atMs`, unless it is armed for that moment or sooner. */
  private armAt (atMs: number, nowMs: number): void {
    if (this.stopped || (this.clock !== undefined && this.clock.atMs <= atMs)) return
    clearTimeout(this.clock?.timer)
    this.clock = { atMs, timer: setTimeout(() => { this.clockFired() }, atMs - nowMs) }
  }

  /**
   * Ticks, and arms the clock for an idle tick later whatever comes of it: should the
   * queue be held up (a slow disk), ticks keep being queued at their own times, so the
   * agent never mistakes the hold-up for its process having been paused; should the tick
   * throw, the clock still runs.
   */
  private clockFired (): void {
    this.clock = undefined
    const nowMs = this.init.now()
    try {
      this.tick()
    } finally {
      this.armAt(nowMs + IDLE_TICK_MS, nowMs)
    }
  }

  /**
   * Stops taking work. Graceful: release what we hold (the agent writes the release) so
   * others take it at once; with `finishFirst`, let the running block finish before that.
   */
  async stop (options: { readonly finishFirst: boolean }): Promise<void> {
    if (this.stopped) return
    if (options.finishFirst) {
      // Keep ticking (heartbeats keep the lease) while the block finishes; claim nothing new.
      this.finishing = true
      // Told at once, not on the next tick: the claims queued behind the render are released, not started.
      this.tick()
      await this.init.renderer.settled()
      await this.queue
    }
    this.stopped = true
    clearTimeout(this.viewTimer)
    clearTimeout(this.clock?.timer)
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.process({ kind: 'shutdown', nowMs: this.init.now() })
    await this.queue
    await this.init.renderer.stop('node shutting down')
  }

  private verdict (): ScheduleVerdict {
    const me = this.init.store.view().nodes.find((node) => node.id === this.self)
    const verdict = scheduleVerdict(me?.schedule ?? [], this.init.localTime(this.init.now()))
    const mayRender = this.init.renders && !this.finishing && verdict.mayRender
    return { ...verdict, mayRender }
  }

  private enqueue (input: AgentInput): void {
    if (this.stopped) return
    this.process(input)
  }

  /**
   * Queues `input` for the agent after everything queued before it, then carries out its
   * commands; `this.queue` settles when it is done, and never rejects: a step that fails
   * is logged and the next one runs.
   */
  private process (input: AgentInput | (() => AgentInput)): void {
    let kind = typeof input === 'function' ? 'view-changed' : input.kind
    this.queue = this.queue.then(async () => {
      const made = typeof input === 'function' ? input() : input
      kind = made.kind
      await this.carryOut(this.agent.handle(made))
      this.forgetClaimsNotHeld()
    }).catch((error: unknown) => { this.init.logger.error('agent step failed', { input: kind, error }) })
      // Even after a failed step: a node whose clock stopped would never tick again.
      .finally(() => { this.armClock() })
  }

  /**
   * Tells the agent the view changed, with the view as it is when its turn comes, not as it
   * was when queued: our own appends queued before it are in, so the agent never takes its
   * newest claims for lost.
   */
  private viewChanged (): void {
    if (this.stopped) return
    this.process(() => ({ kind: 'view-changed', nowMs: this.init.now(), view: this.currentView() }))
  }

  /** The view for the agent; the keep-alive's pace follows whether it shows any lease held. */
  private currentView (): FarmView {
    const view = this.init.store.view()
    this.init.mesh.setWorkInFlight(view.nodes.some((node) => node.holding.length > 0))
    return view
  }

  /** Keeps only the claims on leases the agent holds now: no other is ever sent again. */
  private forgetClaimsNotHeld (): void {
    const keep = new Set(this.agent.held().map(blockKey))
    for (const key of this.claims.keys()) if (!keep.has(key)) this.claims.delete(key)
  }

  private async carryOut (commands: readonly AgentCommand[]): Promise<void> {
    let appended = false
    for (const command of commands) {
      if (command.kind === 'append') {
        const { event, bytes } = await this.init.store.append(command.body, this.init.now())
        if (command.body.type === 'block.claimed') this.claims.set(blockKey(command.body), bytes)
        this.init.logger.debug('appended', { type: event.event.body.type, seq: event.event.seq })
        appended = true
      } else {
        this.command(command)
      }
    }
    // The agent decides on a view that includes its own writes, as in the simulator.
    if (appended) await this.carryOut(this.agent.handle({ kind: 'view-changed', nowMs: this.init.now(), view: this.currentView() }))
  }

  private command (command: Exclude<AgentCommand, { kind: 'append' }>): void {
    const { mesh, logger } = this.init
    if (isHailCommand(command)) {
      for (const { to, message } of hailMessagesOf(command, this.held(this.self))) this.send(to, message)
      return
    }
    switch (command.kind) {
      case 'start-renderer':
        this.startRenderer(command.target, command.frames)
        return
      case 'stop-renderer':
        logger.info('stopping the renderer', { block: blockKey(command.target), reason: command.reason })
        // The slot's stop only waits for the render to end, which reports no error; should that change, it is seen here.
        this.init.renderer.stop(command.reason).catch((error: unknown) => { logger.error('the renderer did not stop cleanly', { block: blockKey(command.target), error }) })
        return
      case 'send-heartbeat': {
        const current = this.init.renderer.current()
        const me = this.init.store.view().nodes.find((node) => node.id === this.self)
        const heartbeat = {
          type: 'heartbeat',
          // Our own lease says RENDERING before the log does; otherwise the client table decides.
          status: command.beat.lease !== null ? 'RENDERING' : me === undefined ? 'STANDBY' : clientStatus(me, true),
          lease: command.beat.lease,
          progressPct: current?.progressPct ?? null,
          idle: command.beat.idle,
          mayRender: command.beat.mayRender,
          feedSeq: this.held(this.self),
          sentAtMs: this.init.now()
        } as const
        if (!this.heartbeatPace.due(sayingOf(heartbeat), heartbeat.lease !== null, heartbeat.sentAtMs)) return
        mesh.publishEphemeral(heartbeat).catch((error: unknown) => { logger.debug('heartbeat not sent', { error }) })
        return
      }
      case 'send-claim': {
        const event = this.claims.get(blockKey(command.target))
        if (event !== undefined) this.send(command.to, { type: 'claim', event })
        return
      }
      case 'declare-dead':
        logger.warn('peer declared dead by hail', { peer: command.peer, leases: command.leases.map(blockKey) })
        return
      case 'lease-freed':
        logger.info('lease freed: its holder is not rendering it', { holder: command.holder, lease: blockKey(command.lease) })
        return
      case 'answer-refused':
        logger.warn('hail answer refused', { from: command.from, why: command.why })
    }
  }

  private send (to: string, message: Parameters<Mesh['sendDirect']>[1]): void {
    // Undelivered hail is what liveness times out on; nothing else to do here.
    this.init.mesh.sendDirect(to, message).catch((error: unknown) => { this.init.logger.debug('direct message not delivered', { to, type: message.type, error }) })
  }

  private startRenderer (target: BlockRef, frames: { readonly start: number, readonly end: number }): void {
    const view = this.init.store.view()
    const job = view.jobs.find((candidate) => candidate.id === target.jobId)
    const me = view.nodes.find((node) => node.id === this.self)
    if (job === undefined || me === undefined) {
      this.enqueue({ kind: 'render-failed', nowMs: this.init.now(), target, failure: 'retryable', message: 'job or node settings not in the view yet', outputTail: [] })
      return
    }
    const refused = refusalOf(job, this.init.local)
    if (refused !== null) {
      // The scheduler keeps us off such jobs; reaching here means the view disagreed with our config.
      this.init.logger.warn('refusing to render', { job: job.shortId, block: target.block, software: job.software })
      this.enqueue({ kind: 'render-failed', nowMs: this.init.now(), target, failure: 'retryable', message: refused, outputTail: [] })
      return
    }
    const limits = effectiveLimits(me, this.verdict())
    this.init.logger.info('rendering', { job: job.shortId, block: target.block, epoch: target.epoch, frames: `${frames.start}-${frames.end}`, threads: limits.threads, memoryMb: limits.memoryMb })
    this.init.renderer.start(target, renderTaskFor(job, target, frames, limits, this.init.local), (outcome) => { this.ended(target, outcome) })
  }

  private ended (target: BlockRef, outcome: RenderOutcome): void {
    const nowMs = this.init.now()
    if (outcome.kind === 'finished') {
      this.init.logger.info('block finished', { block: blockKey(target), frames: outcome.frames.length, wallMs: outcome.wallMs })
      this.enqueue({ kind: 'render-finished', nowMs, target, wallMs: outcome.wallMs, frames: outcome.frames })
      return
    }
    this.init.logger.warn('block failed', { block: blockKey(target), failure: outcome.failure, reason: outcome.reason, message: outcome.message })
    // Withdrawn before the failure is reported, so the agent, free again, takes no other block of that software.
    if (outcome.reason === 'executable-missing') this.withdrawSoftware(target)
    this.enqueue({ kind: 'render-failed', nowMs, target, failure: outcome.failure, message: outcome.message, outputTail: outcome.outputTail })
  }

  /**
   * A renderer missing here is missing for every job of its software, so the node stops
   * saying it runs it: no node takes such a job again only to fail it, and once no node
   * runs it the job is ERROR (stranded.ts). The next start restates the config's list.
   */
  private withdrawSoftware (target: BlockRef): void {
    if (this.stopped) return
    const { store, logger } = this.init
    this.queue = this.queue.then(async () => {
      const view = store.view()
      const software = view.jobs.find((job) => job.id === target.jobId)?.software
      const runs = view.nodes.find((node) => node.id === this.self)?.software ?? []
      // `command` runs whatever program a job names: a missing one is that job's, not the node's.
      if (software === undefined || software === 'command' || !runs.includes(software)) return
      await store.append({ type: 'node.settings', node: this.self, changes: { software: runs.filter((entry) => entry !== software) } }, this.init.now())
      logger.warn('renderer not installed here: no longer taking its jobs until the next start', { software })
      await this.carryOut(this.agent.handle({ kind: 'view-changed', nowMs: this.init.now(), view: this.currentView() }))
    }).catch((error: unknown) => { logger.error('could not withdraw software found missing', { job: target.jobId, error }) })
  }

  private appended (verified: VerifiedEvent): void {
    const { author, body } = verified.event
    if (author === this.self) return
    if (body.type === 'block.claimed') {
      this.enqueue({ kind: 'claim-seen', from: author, nowMs: this.init.now(), target: { jobId: body.jobId, block: body.block, epoch: body.epoch } })
    }
    if (this.viewTimer !== undefined || this.stopped) return
    this.viewTimer = setTimeout(() => {
      this.viewTimer = undefined
      this.viewChanged()
    }, VIEW_BATCH_MS)
  }

  private direct ({ from, receivedAtMs: nowMs, message }: ReceivedDirect): void {
    if (message.type === 'claim') {
      // The mesh checked that it is the sender's own claim; whether the log takes it is the store's call.
      this.init.store.ingest(message.event).then((result) => {
        if (result.kind === 'gap') this.init.mesh.requestPull(from)
      }, (error: unknown) => {
        if (!(error instanceof EventRejectedError)) {
          this.init.logger.warn('direct claim not taken in', { from, error })
          return
        }
        this.init.mesh.reportOffence({ peer: from, channel: 'direct', reason: error.reason, detail: error.message })
      })
      return
    }
    const { input, feed } = receivedHail(from, nowMs, message, (author) => this.held(author))
    if (feed !== null) this.catchUp(feed.author, feed.feedSeq)
    this.enqueue(input)
  }

  private held (author: string): number {
    return this.init.store.versionVector()[author] ?? 0
  }

  /** `author` says its feed is `feedSeq` long; if we hold less, a push was lost: pull now. */
  private catchUp (author: string, feedSeq: number): void {
    if (feedSeq > this.held(author)) this.init.mesh.requestPull(author)
  }
}
