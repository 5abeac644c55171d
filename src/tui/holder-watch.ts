/**
 * Truth on arrival (DESIGN's hail): a controller that stays on the mesh hails every lease
 * holder the log shows as soon as it starts, and keeps hailing holders that fall silent,
 * so a block whose holder is gone shows as such instead of RENDERING forever. It runs
 * the same pure liveness machine the render nodes run (src/protocol/liveness.ts), over the
 * controller's mesh: heartbeats in, hails and their answers as direct messages.
 */
import type { Controller } from '../node/controller/controller.js'
import type { ReceivedDirect } from '../node/mesh/direct.js'
import { hailMessagesOf, receivedHail, type HailMessage } from '../protocol/agent/hail-messages.js'
import { leasesByHolder } from '../protocol/agent/peers.js'
import { Liveness, type LivenessCommand, type LivenessInput } from '../protocol/liveness.js'
import type { Logger } from '../node/log.js'

/** As often as the render nodes' agents tick: a silent holder is hailed within a beat of its timeout. */
const HAIL_TICK_MS = 100

export class HolderWatch {
  private readonly liveness: Liveness
  private readonly unsubscribes: (() => void)[] = []
  private ticker: NodeJS.Timeout | undefined
  private gone: ReadonlySet<string> = new Set()

  constructor (private readonly controller: Controller, private readonly logger: Logger, private readonly onChange: () => void, private readonly now: () => number = Date.now) {
    this.liveness = new Liveness({ self: controller.peerId, random: Math.random })
  }

  /** Hails every holder now, and watches from then on. */
  start (): void {
    const { controller } = this
    this.observeLeases()
    this.unsubscribes.push(
      controller.replica().onAppended(() => { this.observeLeases() }),
      controller.on('ephemeral', ({ from, receivedAtMs, message }) => {
        this.handle({ kind: 'heartbeat', from, nowMs: receivedAtMs, beat: { lease: message.lease, idle: message.idle, mayRender: message.mayRender } })
      }),
      controller.on('direct', (received) => { this.direct(received) }),
      controller.on('peer:disconnected', ({ peer }) => { this.handle({ kind: 'peer-disconnected', peer, nowMs: this.now() }) })
    )
    this.handle({ kind: 'hail-all', nowMs: this.now() })
    this.ticker = setInterval(() => { this.handle({ kind: 'tick', nowMs: this.now() }) }, HAIL_TICK_MS)
  }

  stop (): void {
    clearInterval(this.ticker)
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
  }

  /** Holders declared dead by hail: what the log says they render, nobody does. */
  goneHolders (): ReadonlySet<string> {
    return this.gone
  }

  private observeLeases (): void {
    this.liveness.observeLeases(leasesByHolder(this.controller.view()))
  }

  private direct (received: ReceivedDirect): void {
    const { from, receivedAtMs, message } = received
    // A holder's claim is for the render nodes that collide with it; a controller claims nothing.
    if (message.type === 'claim') return
    const { input } = receivedHail(from, receivedAtMs, message, (author) => this.held(author))
    if (input.kind === 'hail-received') {
      // Nobody should hail us (we hold no lease); should one, the true answer is "not rendering".
      this.send(from, { type: 'hail-answer', nonce: input.nonce, answer: { rendering: null, feedSeq: this.held(this.controller.peerId) } })
      return
    }
    if (input.kind === 'hail-answered' || input.kind === 'indirect-hail-requested' || input.kind === 'indirect-hail-answered') this.handle(input)
  }

  private held (author: string): number {
    return this.controller.replica().versionVector()[author] ?? 0
  }

  private send (to: string, message: HailMessage): void {
    this.controller.sendDirect(to, message).catch((error: unknown) => { this.logger.debug('hail not delivered', { to, type: message.type, error }) })
  }

  private handle (input: LivenessInput): void {
    const before = this.liveness.revision
    for (const command of this.liveness.handle(input)) this.carryOut(command)
    if (this.liveness.revision === before) return
    this.gone = this.liveness.dead()
    this.onChange()
  }

  private carryOut (command: LivenessCommand): void {
    switch (command.kind) {
      case 'send-hail':
      case 'send-indirect-hail':
      case 'send-indirect-answer': {
        for (const { to, message } of hailMessagesOf(command, this.held(this.controller.peerId))) this.send(to, message)
        return
      }
      case 'declare-dead':
        this.logger.warn('holder declared dead by hail', { peer: command.peer, leases: command.leases.length })
        return
      case 'lease-freed':
        this.logger.info('a holder is not rendering its block', { holder: command.holder, jobId: command.lease.jobId, block: command.lease.block })
        return
      case 'answer-refused':
        this.logger.debug('hail answer refused', { from: command.from, why: command.why })
    }
  }
}
