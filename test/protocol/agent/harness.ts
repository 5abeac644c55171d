/**
 * Drives one Agent against a World the way a node does: its appends are written to its
 * feed and the new view is fed back; other authors' events reach it when the test syncs.
 */
import { Agent } from '../../../src/protocol/agent/agent.js'
import type { AgentCommand, AgentInput } from '../../../src/protocol/agent/types.js'
import type { Beat } from '../../../src/protocol/liveness.js'
import type { FarmView } from '../../../src/protocol/view.js'
import { World } from '../../helpers/farm-events.js'
import type { Signer } from '../../../src/protocol/signing.js'

export class AgentHarness {
  readonly world: World
  readonly agent: Agent
  nowMs = 0

  /** `random` 0 by default: no claim jitter, so tests see a decision's claim at once. */
  constructor (signers: readonly Signer[], readonly me: number, random: () => number = () => 0) {
    this.world = new World(signers)
    this.agent = new Agent({ self: this.world.author(me), name: `node-${me}`, random })
  }

  get id (): string {
    return this.world.author(this.me)
  }

  view (): FarmView {
    this.world.sync(this.me)
    const replica = this.world.replicas[this.me]
    if (replica === undefined) throw new RangeError(`no replica ${this.me}`)
    return replica.view()
  }

  /** Hands the agent one input; carries out its appends and feeds back the view, as a node would. */
  drive (input: AgentInput): AgentCommand[] {
    const commands = this.agent.handle(input)
    const appended = commands.filter((command) => command.kind === 'append')
    for (const command of appended) this.world.write(this.me, command.body)
    if (appended.length > 0) commands.push(...this.sync())
    return commands
  }

  /** Other authors' events reach the agent. */
  sync (): AgentCommand[] {
    return this.drive({ kind: 'view-changed', nowMs: this.nowMs, view: this.view() })
  }

  /** Ticks every 100 ms up to `toMs`; returns every command on the way. */
  tickTo (toMs: number, heartbeats: readonly string[] = []): AgentCommand[] {
    const commands: AgentCommand[] = []
    const beat: Beat = { lease: null, idle: true, mayRender: true }
    while (this.nowMs < toMs) {
      this.nowMs = Math.min(toMs, this.nowMs + 100)
      for (const from of heartbeats) commands.push(...this.drive({ kind: 'heartbeat-received', from, nowMs: this.nowMs, beat }))
      commands.push(...this.drive({ kind: 'tick', nowMs: this.nowMs, mayRender: true }))
    }
    return commands
  }
}

/** The appended bodies among `commands`, as `type` strings with their block and epoch. */
export function appended (commands: readonly AgentCommand[]): string[] {
  return commands.flatMap((command) => {
    if (command.kind !== 'append') return []
    const { body } = command
    return 'block' in body && 'epoch' in body ? [`${body.type} ${body.block}@${body.epoch}`] : [body.type]
  })
}
