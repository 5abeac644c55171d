/**
 * Direct messages: one small message to one peer over a short stream, for what must not
 * wait on gossip. Hail lives here ("are you rendering block B at epoch e?" and its
 * answer, and the indirect probes that ask others to try), and a holder's own claim, sent
 * straight to a node that claimed the same block so the collision settles at once.
 * Messages are canonical CBOR checked against a schema and a size limit both ways, and a
 * claim must carry a claim event of the peer that sends it.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { z } from 'zod'
import { decodeEvent, MAX_EVENT_BYTES } from '../../protocol/encoding.js'
import { EventRejectedError } from '../../protocol/errors.js'
import type { SignedEvent } from '../../protocol/events.js'
import { peerIdSchema, uuidSchema } from '../../protocol/schemas.js'
import type { Logger } from '../log.js'
import { DirectSendError, InvalidDirectMessageError } from './errors.js'
import { framingRefusal, type Offence } from './offences.js'
import { DIRECT_PROTOCOL } from './protocols.js'
import { decodeAs, encodeAs } from './wire.js'

/** A claim event is the largest message; hail messages are under 200 bytes. */
export const DIRECT_MAX_BYTES = MAX_EVENT_BYTES + 256
/** A direct message that is not through in this long is given up: hail has its own timeouts above this. */
export const DIRECT_SEND_TIMEOUT_MS = 2_000
/** Streams a peer may have open to us at once; hail is a trickle, not a flood. */
const MAX_DIRECT_STREAMS_PER_CONNECTION = 32

const leaseSchema = z.strictObject({ jobId: uuidSchema, block: z.int().min(0), epoch: z.int().min(1) })
const nonceSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER)
const answerSchema = z.strictObject({ rendering: leaseSchema.nullable(), feedSeq: z.int().min(0) })

export const directMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hail'), nonce: nonceSchema, lease: leaseSchema }),
  z.strictObject({ type: z.literal('hail-answer'), nonce: nonceSchema, answer: answerSchema }),
  z.strictObject({ type: z.literal('indirect-hail'), nonce: nonceSchema, target: peerIdSchema, lease: leaseSchema }),
  z.strictObject({ type: z.literal('indirect-answer'), nonce: nonceSchema, target: peerIdSchema, answer: answerSchema }),
  /** Our claim event, in wire form: the receiver takes it into its log like gossip. */
  z.strictObject({ type: z.literal('claim'), event: z.custom<Uint8Array>((value) => value instanceof Uint8Array, { error: 'must be bytes' }) })
])

export type DirectMessage = z.infer<typeof directMessageSchema>

export interface ReceivedDirect {
  /** The peer at the other end of the stream: authenticated by the connection's Noise handshake. */
  readonly from: string
  readonly receivedAtMs: number
  readonly message: DirectMessage
}

export function encodeDirect (message: DirectMessage): Uint8Array {
  return encodeAs(directMessageSchema, message, DIRECT_MAX_BYTES, (why) => new InvalidDirectMessageError(why))
}

export function decodeDirect (bytes: Uint8Array): DirectMessage {
  return decodeAs(directMessageSchema, bytes, (why) => new InvalidDirectMessageError(why))
}

export interface DirectChannelInit {
  readonly host: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>
  readonly now: () => number
  readonly logger: Logger
  readonly onOffence: (offence: Offence) => void
  readonly onMessage: (received: ReceivedDirect) => void
}

export class DirectChannel {
  private readonly init: DirectChannelInit

  constructor (init: DirectChannelInit) {
    this.init = init
  }

  async start (): Promise<void> {
    await this.init.host.handle(DIRECT_PROTOCOL, async (stream, connection) => {
      await this.receive(stream, connection.remotePeer)
    }, { maxInboundStreams: MAX_DIRECT_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_DIRECT_STREAMS_PER_CONNECTION })
  }

  async stop (): Promise<void> {
    await this.init.host.unhandle(DIRECT_PROTOCOL)
  }

  /** Sends one message to `peer`, dialling it if need be. Throws DirectSendError when it cannot be delivered. */
  async send (peer: string, message: DirectMessage): Promise<void> {
    const bytes = encodeDirect(message)
    const signal = AbortSignal.timeout(DIRECT_SEND_TIMEOUT_MS)
    try {
      const stream = await this.init.host.dialProtocol(peerIdFromString(peer), DIRECT_PROTOCOL, { signal })
      await lpStream(stream, { maxDataLength: DIRECT_MAX_BYTES }).write(bytes, { signal })
      await stream.close({ signal })
    } catch (error) {
      throw new DirectSendError(peer, message.type, error)
    }
  }

  private async receive (stream: Stream, peer: PeerId): Promise<void> {
    const receivedAtMs = this.init.now()
    const from = peer.toString()
    const framed = lpStream(stream, { maxDataLength: DIRECT_MAX_BYTES })
    let message: DirectMessage
    try {
      message = decodeDirect((await framed.read({ signal: AbortSignal.timeout(DIRECT_SEND_TIMEOUT_MS) })).subarray())
    } catch (error) {
      const offence = refusalOf(error, from)
      if (offence === undefined) this.init.logger.debug('direct message not read', { peer: from, error })
      else this.init.onOffence(offence)
      stream.abort(error as Error)
      return
    }
    await stream.close()
    const misfit = message.type === 'claim' ? claimMisfit(message.event, from) : undefined
    if (misfit !== undefined) {
      this.init.onOffence(misfit)
      return
    }
    this.init.onMessage({ from, receivedAtMs, message })
  }
}

/** The offence in a failed read, or undefined when the peer is not to blame (gone, slow). */
function refusalOf (error: unknown, peer: string): Offence | undefined {
  if (error instanceof InvalidDirectMessageError) return { peer, channel: 'direct', reason: error.reason, detail: error.why }
  const framing = framingRefusal(error)
  return framing === undefined ? undefined : { peer, channel: 'direct', ...framing }
}

/**
 * Why a claim message is not what a holder sends, if it is not: a holder sends its own
 * claim event, so anything else (not an event, another kind of event, another author's
 * claim) is refused before it reaches the log. The event's signature is the log's to check.
 */
function claimMisfit (bytes: Uint8Array, peer: string): Offence | undefined {
  let event: SignedEvent
  try {
    event = decodeEvent(bytes)
  } catch (error) {
    if (!(error instanceof EventRejectedError)) throw error
    return { peer, channel: 'direct', reason: error.reason, detail: error.message }
  }
  const ref = `${event.author}#${event.seq}`
  if (event.body.type !== 'block.claimed') {
    return { peer, channel: 'direct', reason: 'malformed-direct', detail: `a claim message carries ${event.body.type} event ${ref}` }
  }
  if (event.author !== peer) {
    return { peer, channel: 'direct', reason: 'misattributed', detail: `a claim message carries another author's claim, ${ref}` }
  }
  return undefined
}
