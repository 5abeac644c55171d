/**
 * Push: every event this node writes goes out on the log topic at once, and every event
 * that arrives there is ingested inside gossipsub's validator, so only events our log
 * accepted are forwarded to other peers. Gossip is fast but not reliable: it keeps seconds
 * of history, and a message published before a peer's subscription arrived reaches no one.
 * Both are left to pull: a gap seen here asks for a pull from the sender, and a peer that
 * subscribes triggers a sync in which it learns what it missed (see mesh.ts).
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../log.js'
import type { IngestingLog } from './ingest.js'
import { OFFENCE_POINTS, type Offence } from './offences.js'
import { LOG_TOPIC } from './protocols.js'

export interface LogGossipInit {
  readonly pubsub: Pick<GossipSub, 'subscribe' | 'unsubscribe' | 'publish' | 'topicValidators'>
  readonly log: IngestingLog
  readonly logger: Logger
  readonly onOffence: (offence: Offence) => void
  /** An event arrived ahead of what we hold: pull from the peer that sent it. */
  readonly onGap: (peer: PeerId) => void
}

export class LogGossip {
  private readonly init: LogGossipInit
  /** Publishes run in order, so peers receive one author's events in seq order. */
  private publishing: Promise<void> = Promise.resolve()

  constructor (init: LogGossipInit) {
    this.init = init
  }

  start (): void {
    this.init.pubsub.topicValidators.set(LOG_TOPIC, async (peer, message) => this.validate(peer, message))
    this.init.pubsub.subscribe(LOG_TOPIC)
  }

  async stop (): Promise<void> {
    this.init.pubsub.unsubscribe(LOG_TOPIC)
    this.init.pubsub.topicValidators.delete(LOG_TOPIC)
    await this.publishing
  }

  /** Pushes one of our events. Never rejects: what gossip cannot deliver, pull will. */
  publish (bytes: Uint8Array): void {
    this.publishing = this.publishing.then(async () => {
      try {
        const { recipients } = await this.init.pubsub.publish(LOG_TOPIC, bytes)
        if (recipients.length === 0) this.init.logger.debug('event published to no peer; pull will deliver it')
      } catch (error) {
        this.init.logger.warn('publish failed; pull will deliver the event', { error })
      }
    })
  }

  private async validate (peer: PeerId, message: Message): Promise<TopicValidatorResult> {
    try {
      const [outcome] = await this.init.log.ingestBatch([message.data])
      if (outcome === undefined) throw new Error('the store gave no outcome for the event')
      if (outcome.kind === 'appended') return TopicValidatorResult.Accept
      if (outcome.kind === 'gap') {
        this.init.onGap(peer)
        return TopicValidatorResult.Ignore
      }
      const { error: refusal } = outcome
      this.init.onOffence({ peer: peer.toString(), channel: 'gossip', reason: refusal.reason, detail: refusal.message })
      // Reject also lowers the sender's gossipsub score; keep that for input no honest peer sends.
      return OFFENCE_POINTS.gossip[refusal.reason] > 0 ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    } catch (error) {
      this.init.logger.error('could not ingest a gossiped event', { peer: peer.toString(), error })
      return TopicValidatorResult.Ignore
    }
  }
}
