/**
 * The ephemeral channel: heartbeats (node status, the block it holds, progress) on a
 * second gossip topic, never written to the log. Liveness and hail subscribe here. Every
 * message is canonical CBOR checked against a schema and a size limit, on the way out as
 * on the way in. Gossipsub signs each message with the publisher's peer key, so `from`
 * is the node that said it, whoever relayed it.
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
 * Messages sent longer ago than this (by the sender's clock) are dropped as stale: gossip
 * forgets what it has seen after two minutes, so this also stops replays of old news.
 * Clocks of a studio's machines agree far better than this.
 */
export const EPHEMERAL_MAX_AGE_MS = 60_000

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

export interface ReceivedEphemeral {
  /** The node that published it (gossip-signed). */
  readonly from: string
  readonly receivedAtMs: number
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
    let message: EphemeralMessage
    try {
      message = decodeEphemeral(gossip.data)
    } catch (error) {
      if (!(error instanceof InvalidEphemeralMessageError)) throw error
      this.init.onOffence({ peer: peer.toString(), channel: 'ephemeral', reason: error.reason, detail: error.why })
      return TopicValidatorResult.Reject
    }
    if (receivedAtMs - message.sentAtMs > EPHEMERAL_MAX_AGE_MS) {
      this.init.logger.debug('stale ephemeral message dropped', { peer: peer.toString(), sentAtMs: message.sentAtMs })
      return TopicValidatorResult.Ignore
    }
    // Signed gossip always names its publisher; unsigned gossip is refused by the host's policy.
    const from = gossip.type === 'signed' ? gossip.from.toString() : peer.toString()
    this.init.onMessage({ from, receivedAtMs, message })
    return TopicValidatorResult.Accept
  }
}
