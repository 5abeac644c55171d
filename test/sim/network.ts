/**
 * The simulated network: per-message latency with jitter (which reorders), gossip bursts,
 * loss, duplication, and partitions. A message is delivered only if the receiver is still
 * up and on the sender's side of any partition when it arrives; what a paused receiver
 * does with it is the receiver's business (node.ts).
 */
import type { VerifiedEvent } from '../../src/protocol/events.js'
import type { HailMessage } from '../../src/protocol/agent/hail-messages.js'
import type { Beat } from '../../src/protocol/liveness.js'
import type { VersionVector } from '../../src/protocol/version-vector.js'
import type { NetworkProfile } from './profiles.js'
import type { Prng } from './prng.js'
import type { EventQueue } from './queue.js'

export type Message =
  /** Push: a new event on the log topic. */
  | { readonly kind: 'event', readonly event: VerifiedEvent }
  /**
   * Pull: "here is what I have"; the answer is `events`, sent even when empty if
   * `answerAlways` (a node recovering waits for it). `connecting`: the first pull of a new
   * connection, which the receiver hears as the real node hears a peer connect.
   */
  | { readonly kind: 'pull', readonly vector: VersionVector, readonly answerAlways: boolean, readonly connecting: boolean }
  | { readonly kind: 'events', readonly events: readonly VerifiedEvent[] }
  /** Ephemeral: the sender's heartbeat, with its own feed's length so a lost push is noticed. */
  | { readonly kind: 'heartbeat', readonly beat: Beat, readonly feedSeq: number }
  /** Hail and its answers, as the real node sends them on its direct channel. */
  | { readonly kind: 'hail', readonly message: HailMessage }

/** Gossip (pubsub) suffers bursts; streams (pull, hail) are direct requests. */
export type Channel = 'gossip' | 'stream'

export interface Endpoint {
  receive: (from: string, message: Message) => void
}

export class Network {
  private readonly endpoints = new Map<string, Endpoint>()
  private readonly down = new Set<string>()
  /** Partition side of each node; nodes talk only within a side. */
  private readonly sides = new Map<string, number>()
  /** Until when each node's outgoing gossip is stalled. */
  private readonly stalls = new Map<string, number>()
  messages = 0
  /** Messages handed to the network, by kind: a gossip is one per peer it goes to. */
  readonly sent: Record<Message['kind'], number> = { event: 0, pull: 0, events: 0, heartbeat: 0, hail: 0 }
  /** Gossips published, by kind: what a node says once, however many peers it reaches. */
  readonly published: Record<Message['kind'], number> = { event: 0, pull: 0, events: 0, heartbeat: 0, hail: 0 }

  /** `delivered` hears of every message that reaches its receiver. */
  constructor (
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly profile: NetworkProfile,
    private readonly delivered: (from: string, to: string, message: Message) => void
  ) {}

  attach (id: string, endpoint: Endpoint): void {
    this.endpoints.set(id, endpoint)
  }

  ids (): string[] {
    return [...this.endpoints.keys()]
  }

  setDown (id: string, down: boolean): void {
    if (down) this.down.add(id)
    else this.down.delete(id)
  }

  /** Cuts `island` off from everyone else until `heal`. */
  partition (island: ReadonlySet<string>): void {
    for (const id of island) this.sides.set(id, 1)
  }

  /** Holds `id`'s outgoing gossip until `untilMs`; it then goes out in a burst. */
  stallGossip (id: string, untilMs: number): void {
    this.stalls.set(id, untilMs)
  }

  heal (): void {
    this.sides.clear()
  }

  sameSide (a: string, b: string): boolean {
    return (this.sides.get(a) ?? 0) === (this.sides.get(b) ?? 0)
  }

  linked (a: string, b: string): boolean {
    return a !== b && !this.down.has(a) && !this.down.has(b) && this.sameSide(a, b)
  }

  /** The peers `id` has a connection to now. */
  peersOf (id: string): string[] {
    return this.ids().filter((other) => this.linked(id, other))
  }

  send (from: string, to: string, message: Message, channel: Channel): void {
    const { profile, prng } = this
    if (!this.linked(from, to)) return
    this.sent[message.kind]++
    if (prng.chance(profile.loss)) return
    const copies = prng.chance(profile.duplication) ? 2 : 1
    for (let copy = 0; copy < copies; copy++) {
      const spike = channel === 'gossip' && prng.chance(profile.spikeChance) ? prng.next() * profile.spikeMs : 0
      const stalled = channel === 'gossip' ? Math.max(0, (this.stalls.get(from) ?? 0) - this.queue.nowMs) : 0
      const delayMs = prng.int(profile.latencyMinMs, profile.latencyMaxMs) + spike + stalled
      this.messages++
      this.queue.after(delayMs, () => {
        // In flight when the sender died still arrives (it was on the wire); a dead or cut-off receiver gets nothing.
        if (this.down.has(to) || !this.sameSide(from, to)) return
        this.delivered(from, to, message)
        this.endpoints.get(to)?.receive(from, message)
      })
    }
  }

  gossip (from: string, message: Message): void {
    this.published[message.kind]++
    for (const to of this.peersOf(from)) this.send(from, to, message, 'gossip')
  }
}
