/**
 * The ephemeral channel: heartbeats (node status, the block it holds, progress) on a
 * second gossip topic, never written to the log. Liveness and hail subscribe here. Every
 * message is canonical CBOR checked against a schema and a size limit, on the way out as
 * on the way in. A publisher's messages must be dated later than its last one, which
 * stops replays however late they come, without asking its clock to agree with ours: a
 * node whose clock is off by minutes still takes part, and is reported. Gossipsub
 * signs each message with the publisher's peer key, so `from` is the node that said it,
 * whoever relayed it; offences go to the peer that relayed it to us, which checked it too.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { z } from 'zod'
import { uuidSchema } from '../../protocol/schemas.js'
import { CLIENT_STATUS } from '../../protocol/vocabulary.js'
import type { Logger } from '../log.js'
import { InvalidEphemeralMessageError } from './errors.js'
import type { Offence } from './offences.js'
import { EPHEMERAL_TOPIC } from './protocols.js'
import { decodeAs, encodeAs } from './wire.js'

/** A heartbeat is about 150 bytes; this leaves room for later kinds without inviting floods. */
export const EPHEMERAL_MAX_BYTES = 4 * 1024
/**
 * A publisher's clock this far from ours (either way) is worth a warning: schedules,
 * working hours and registered times are read off clocks. Heartbeats still count.
 */
export const CLOCK_SKEW_WARN_MS = 10_000
/** Publishers not heard for this long are forgotten, so the replay guard stays small. */
const FORGET_PUBLISHER_MS = 10 * 60_000
/** Above this many publishers remembered, the ones long silent are dropped. */
const PUBLISHERS_SOFT_LIMIT = 10_000

const heartbeatSchema = z.strictObject({
  type: z.literal('heartbeat'),
  status: z.enum(CLIENT_STATUS),
  /** The block this node holds a lease on, if any. */
  lease: z.strictObject({
    jobId: uuidSchema,
    block: z.int().min(0),
    epoch: z.int().min(1)
  }).nullable(),
  /** Progress of the held block, 0-100, when the renderer reports it. */
  progressPct: z.number().min(0).max(100).nullable(),
  /** It holds nothing and runs no renderer. */
  idle: z.boolean(),
  /** Its working-hour schedule lets it render now. */
  mayRender: z.boolean(),
  /** How long its own feed is: a peer holding less pulls at once instead of waiting. */
  feedSeq: z.int().min(0),
  /** The sender's wall clock when it sent this. */
  sentAtMs: z.int().min(0)
})

export const ephemeralMessageSchema = z.discriminatedUnion('type', [heartbeatSchema])

export type EphemeralMessage = z.infer<typeof ephemeralMessageSchema>
export type Heartbeat = z.infer<typeof heartbeatSchema>

/** What a heartbeat says, its send time left out: two beats that say the same give the same text (HeartbeatPace). */
export function sayingOf ({ status, lease, progressPct, idle, mayRender, feedSeq }: Heartbeat): string {
  return JSON.stringify([status, lease, progressPct, idle, mayRender, feedSeq])
}

export interface ReceivedEphemeral {
  /** The node that published it (gossip-signed). */
  readonly from: string
  readonly receivedAtMs: number
  /** Our clock minus the publisher's when it sent this (network delay included): its skew, negative when ahead. */
  readonly clockOffsetMs: number
  readonly message: EphemeralMessage
}

export interface EphemeralChannelInit {
  readonly pubsub: Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'topicValidators'>
  readonly now: () => number
  readonly logger: Logger
  readonly onOffence: (offence: Offence) => void
  /** A valid, fresh message from a peer. */
  readonly onMessage: (received: ReceivedEphemeral) => void
}

/** Checks and encodes a message; throws InvalidEphemeralMessageError when it would be refused. */
export function encodeEphemeral (message: EphemeralMessage): Uint8Array {
  return encodeAs(ephemeralMessageSchema, message, EPHEMERAL_MAX_BYTES, (why) => new InvalidEphemeralMessageError(why))
}

/** Parses untrusted bytes; throws InvalidEphemeralMessageError. */
export function decodeEphemeral (bytes: Uint8Array): EphemeralMessage {
  if (bytes.length > EPHEMERAL_MAX_BYTES) throw new InvalidEphemeralMessageError(`${bytes.length} bytes exceeds ${EPHEMERAL_MAX_BYTES}`)
  return decodeAs(ephemeralMessageSchema, bytes, (why) => new InvalidEphemeralMessageError(why))
}

export class EphemeralChannel {
  private readonly init: EphemeralChannelInit
  /** Each publisher's latest send time, and when we heard it: the replay guard. */
  private readonly latest = new Map<string, { sentAtMs: number, heardAtMs: number }>()

  constructor (init: EphemeralChannelInit) {
    this.init = init
  }

  start (): void {
    this.init.pubsub.topicValidators.set(EPHEMERAL_TOPIC, (peer, message) => this.validate(peer, message))
    this.init.pubsub.subscribe(EPHEMERAL_TOPIC)
  }

  stop (): void {
    this.init.pubsub.unsubscribe(EPHEMERAL_TOPIC)
    this.init.pubsub.topicValidators.delete(EPHEMERAL_TOPIC)
  }

  /** Sends to every peer; resolves with how many got it directly (0 while alone). */
  async publish (message: EphemeralMessage): Promise<number> {
    const { recipients } = await this.init.pubsub.publish(EPHEMERAL_TOPIC, encodeEphemeral(message))
    return recipients.length
  }

  private validate (peer: PeerId, gossip: Message): TopicValidatorResult {
    const receivedAtMs = this.init.now()
    const sender = peer.toString()
    // The host's strict signing policy drops unsigned gossip before it gets here; without a
    // signed publisher we could only credit the message to whoever relayed it.
    if (gossip.type !== 'signed') {
      this.init.onOffence({ peer: sender, channel: 'ephemeral', reason: 'malformed-ephemeral', detail: 'unsigned message: no publisher to credit it to' })
      return TopicValidatorResult.Reject
    }
    let message: EphemeralMessage
    try {
      message = decodeEphemeral(gossip.data)
    } catch (error) {
      if (!(error instanceof InvalidEphemeralMessageError)) throw error
      this.init.onOffence({ peer: sender, channel: 'ephemeral', reason: error.reason, detail: error.why })
      return TopicValidatorResult.Reject
    }
    const from = gossip.from.toString()
    const last = this.latest.get(from)
    if (last !== undefined && message.sentAtMs <= last.sentAtMs) {
      // Older than what its publisher already told us: a replay, or its clock stepped back.
      // Either way it is old news; the relay may be innocent (gossip re-delivers after two minutes).
      this.init.onOffence({ peer: sender, channel: 'ephemeral', reason: 'misdated-ephemeral', detail: `${message.type} from ${from} is dated ${last.sentAtMs - message.sentAtMs} ms before its latest` })
      return TopicValidatorResult.Ignore
    }
    this.remember(from, message.sentAtMs, receivedAtMs)
    this.init.onMessage({ from, receivedAtMs, clockOffsetMs: receivedAtMs - message.sentAtMs, message })
    return TopicValidatorResult.Accept
  }

  private remember (from: string, sentAtMs: number, nowMs: number): void {
    this.latest.set(from, { sentAtMs, heardAtMs: nowMs })
    if (this.latest.size <= PUBLISHERS_SOFT_LIMIT) return
    for (const [publisher, { heardAtMs }] of this.latest) {
      if (nowMs - heardAtMs > FORGET_PUBLISHER_MS) this.latest.delete(publisher)
    }
  }
}
