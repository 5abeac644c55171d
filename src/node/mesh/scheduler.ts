/**
 * When to pull, and from whom. Pulls are requested on every new connection, when a peer
 * subscribes to the log topic, when gossip shows a gap, when a peer that pulled from us
 * turns out to hold more, and periodically with a random peer (anti-entropy).
 *
 * Pulls run one at a time: after one peer filled our gaps, the next pull only fetches
 * what that one lacked, so a restarted peer downloads each event once rather than once
 * per neighbour. A peer is queued at most once however often it is requested (a burst of
 * gossip gaps costs one pull), and one requested while its pull runs is pulled again
 * after, since the running pull may have started before the request's news. A pull that
 * stopped at its event limit goes to the back of the queue, so no peer starves the rest.
 */
import type { PeerId } from '@libp2p/interface'
import type { Logger } from '../log.js'

export type PullTrigger = 'connected' | 'subscribed' | 'gap' | 'behind' | 'periodic' | 'continue'

export interface PullSchedulerInit {
  readonly pull: (peer: PeerId) => Promise<{ readonly appended: number, readonly more: boolean }>
  /** Peers to choose from for anti-entropy. */
  readonly connectedPeers: () => readonly PeerId[]
  readonly antiEntropyIntervalMs: number
  /** The anti-entropy interval while no work is in flight (setWorkInFlight). */
  readonly idleAntiEntropyIntervalMs: number
  readonly logger: Logger
  /** Injected for tests; picks the anti-entropy peer. */
  readonly random?: () => number
}

export class PullScheduler {
  private readonly init: PullSchedulerInit
  private readonly queue = new Map<string, { readonly peer: PeerId, readonly trigger: PullTrigger }>()
  private timer: NodeJS.Timeout | undefined
  private draining: Promise<void> | undefined
  private running = false
  private workInFlight = true
  private lastPeriodicMs = Number.NEGATIVE_INFINITY

  constructor (init: PullSchedulerInit) {
    this.init = init
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.timer = setInterval(() => { this.pullRandomPeer() }, this.init.antiEntropyIntervalMs)
  }

  /** Stops the timer, drops queued pulls and waits for the one running (the caller aborts its stream). */
  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.timer)
    this.timer = undefined
    this.queue.clear()
    await this.draining
  }

  /**
   * Whether any lease is held: with none, events are few and none is urgent, so the random
   * pull runs every idle interval rather than every interval (each is a stream set up and
   * torn down at both ends, a good part of an idle node's CPU).
   */
  setWorkInFlight (busy: boolean): void {
    this.workInFlight = busy
  }

  request (peer: PeerId, trigger: PullTrigger): void {
    if (!this.running) return
    const key = peer.toString()
    if (!this.queue.has(key)) this.queue.set(key, { peer, trigger })
    this.draining ??= this.drain()
  }

  /** A disconnected peer cannot be pulled from; drop it rather than dial it again. */
  forget (peer: PeerId): void {
    this.queue.delete(peer.toString())
  }

  private pullRandomPeer (): void {
    const nowMs = performance.now()
    // The timer runs at the brisk interval; idly, every tick nearest the idle interval pulls.
    const dueAfterMs = this.workInFlight ? 0 : this.init.idleAntiEntropyIntervalMs - this.init.antiEntropyIntervalMs / 2
    if (nowMs - this.lastPeriodicMs < dueAfterMs) return
    this.lastPeriodicMs = nowMs
    const peers = this.init.connectedPeers()
    const peer = peers[Math.floor((this.init.random ?? Math.random)() * peers.length)]
    if (peer !== undefined) this.request(peer, 'periodic')
  }

  /** Clears `draining` in the same tick the queue is found empty, so no request is left unserved. */
  private async drain (): Promise<void> {
    try {
      for (let next = this.shift(); next !== undefined && this.running; next = this.shift()) {
        await this.pullOnce(next.peer, next.trigger)
      }
    } finally {
      this.draining = undefined
    }
  }

  private async pullOnce (peer: PeerId, trigger: PullTrigger): Promise<void> {
    try {
      const { appended, more } = await this.init.pull(peer)
      if (appended > 0) this.init.logger.debug('pulled', { peer: peer.toString(), trigger, appended, more })
      if (more) this.request(peer, 'continue')
    } catch (error) {
      // Offences were reported by the sync service; this is a peer gone or a stream cut.
      this.init.logger.debug('pull failed', { peer: peer.toString(), trigger, error })
    }
  }

  private shift (): { readonly peer: PeerId, readonly trigger: PullTrigger } | undefined {
    const [first] = this.queue
    if (first === undefined) return undefined
    this.queue.delete(first[0])
    return first[1]
  }
}
