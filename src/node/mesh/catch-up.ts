/**
 * Catching up before acting. A node writes nothing of its own (settings, claims, log
 * records) until it holds what its peers hold. Otherwise a store that lost its tail, or
 * was deleted, writes a seq its peers already hold under the same identity (a fork, which
 * they refuse), and an agent deciding on a partial view claims blocks of jobs that are
 * DONE, ERROR or disabled in the part it has not seen yet.
 *
 * It waits for the peers discovery finds, then until a pull from each of them has run to
 * the end (mesh.ts reports every pull). Such a pull brings everything that peer held when
 * it began, our own feed included: the peer's version vector says how long our feed is
 * there. Outside recovery, a node that finds nobody within the discovery window goes on
 * alone (the first node of a new farm). A node recovering a lost store waits for a first
 * peer however long, since only its peers hold its feed. The wait is bounded: a peer that
 * joins once the others are done is not waited for after the settle time, and a peer
 * whose pulls keep failing is given up on after a patience (never the last one in recovery).
 */
import { eventCount, type VersionVector } from '../../protocol/version-vector.js'
import type { Logger } from '../log.js'
import { OwnFeedNotRecoveredError } from './errors.js'
import type { MeshEvents } from './mesh.js'

/** How long a node that may start alone looks for peers: mDNS answers and `--peer` dials come well within it. */
export const DISCOVERY_WINDOW_MS = 2_000
/** After a peer joins, how long to wait for more: one mDNS query is answered by every peer at once. */
export const PEER_SETTLE_MS = 500
/** A peer not yet pulled to the end is asked again this often (a pull that failed is not retried by itself). */
export const PULL_RETRY_MS = 1_000
/** A connected peer whose pulls have not completed in this long is not waited for any more. */
export const PEER_PATIENCE_MS = 30_000
/** While recovering with no peer found, the wait is logged again this often, so a sysadmin sees why the node is idle. */
export const RECOVERY_REMINDER_MS = 30_000
/** How often the conditions are looked at again when nothing happens. */
const RECHECK_MS = 100

/** Whether the node may go on without any peer: a recovering one may not. */
export type PeerWait = 'within-window' | 'however-long'

/** What catching up needs of the mesh (Mesh provides it). */
export interface CatchUpMesh {
  on: <K extends 'peer:connected' | 'peer:disconnected' | 'pulled'> (event: K, listener: (detail: MeshEvents[K]) => void) => () => void
  requestPull: (peer: string) => void
}

export interface CatchUpInit {
  readonly mesh: CatchUpMesh
  readonly log: { versionVector: () => VersionVector }
  /** This node's author id: its own feed is the one that must never fork. */
  readonly self: string
  readonly waitForPeer: PeerWait
  readonly logger: Logger
  readonly now?: () => number
}

export interface CaughtUp {
  /** The peers pulled to the end: none when the node went on alone. */
  readonly peers: readonly string[]
  /** Events taken in while catching up. */
  readonly events: number
  /** Our own feed's length now: at least as long as any of those peers held it. */
  readonly ownFeed: number
  readonly waitedMs: number
}

interface Joined {
  readonly atMs: number
  requestedAtMs: number
}

export class CatchUp {
  private readonly init: CatchUpInit
  private readonly now: () => number
  private readonly startedMs: number
  private readonly eventsAtStart: number
  /** Connected peers, with when they joined and when a pull from them was last asked for. */
  private readonly connected = new Map<string, Joined>()
  private readonly complete = new Set<string>()
  private lastJoinMs = 0
  /** The longest copy of our own feed a peer said it holds, and which peer. */
  private ownFeedAtPeers = { seq: 0, peer: '' }
  private readonly unsubscribes: (() => void)[]
  private wake: (() => void) | undefined
  private stopped = false

  /** Listens from construction on: create it before the mesh starts, so no first exchange is missed. */
  constructor (init: CatchUpInit) {
    this.init = init
    this.now = init.now ?? Date.now
    this.startedMs = this.now()
    this.eventsAtStart = eventCount(init.log.versionVector())
    this.unsubscribes = [
      init.mesh.on('peer:connected', ({ peer }) => { this.joined(peer) }),
      init.mesh.on('peer:disconnected', ({ peer }) => {
        this.connected.delete(peer)
        this.changed()
      }),
      init.mesh.on('pulled', ({ peer, peerVector, complete }) => {
        const ownThere = peerVector[init.self] ?? 0
        if (ownThere > this.ownFeedAtPeers.seq) this.ownFeedAtPeers = { seq: ownThere, peer }
        if (complete) this.complete.add(peer)
        this.changed()
      })
    ]
  }

  /**
   * Resolves once the node holds what the peers it found hold. Rejects with
   * OwnFeedNotRecoveredError when a peer holds more of our own feed than we could take
   * from it: its copy differs from ours, and writing on would fork the feed.
   */
  async done (): Promise<CaughtUp> {
    let remindedMs = this.startedMs
    while (!this.stopped && !this.finished()) {
      const nowMs = this.now()
      this.askAgain(nowMs)
      if (this.init.waitForPeer === 'however-long' && this.complete.size === 0 && nowMs - remindedMs >= RECOVERY_REMINDER_MS) {
        remindedMs = nowMs
        this.init.logger.warn('still waiting for a peer to recover the log from', {
          waitedMs: nowMs - this.startedMs,
          connected: this.connected.size,
          hint: 'start a peer of this farm; a node that was alone on its farm has nothing to recover: remove identity.key too, to join as a new node'
        })
      }
      await this.nextChange()
    }
    this.stop()
    const ownFeed = this.init.log.versionVector()[this.init.self] ?? 0
    if (ownFeed < this.ownFeedAtPeers.seq) throw new OwnFeedNotRecoveredError(this.init.self, ownFeed, this.ownFeedAtPeers.seq, this.ownFeedAtPeers.peer)
    const caughtUp: CaughtUp = {
      peers: [...this.complete],
      events: eventCount(this.init.log.versionVector()) - this.eventsAtStart,
      ownFeed,
      waitedMs: this.now() - this.startedMs
    }
    const givenUp = [...this.connected.keys()].filter((peer) => !this.complete.has(peer))
    if (givenUp.length > 0) this.init.logger.warn('going on without a full pull from some peers: their pulls kept failing', { peers: givenUp, patienceMs: PEER_PATIENCE_MS })
    this.init.logger.info(caughtUp.peers.length === 0 ? 'no peer found: going on alone' : 'caught up with peers', { ...caughtUp, peers: caughtUp.peers.length })
    return caughtUp
  }

  /** Stops listening; `done` then resolves with what it has. Idempotent. */
  stop (): void {
    this.stopped = true
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.changed()
  }

  private finished (): boolean {
    const nowMs = this.now()
    const waiting = [...this.connected].filter(([peer, joined]) => !this.complete.has(peer) && nowMs - joined.atMs < PEER_PATIENCE_MS)
    if (this.complete.size === 0) {
      // Nobody pulled to the end: alone, or every peer found keeps failing.
      return this.init.waitForPeer === 'within-window' && waiting.length === 0 && nowMs - this.startedMs >= DISCOVERY_WINDOW_MS
    }
    return waiting.length === 0 && nowMs - this.lastJoinMs >= PEER_SETTLE_MS
  }

  /** The scheduler pulls on every connection by itself; this covers pulls that failed. */
  private askAgain (nowMs: number): void {
    for (const [peer, joined] of this.connected) {
      if (this.complete.has(peer) || nowMs - joined.requestedAtMs < PULL_RETRY_MS) continue
      joined.requestedAtMs = nowMs
      this.init.mesh.requestPull(peer)
    }
  }

  private joined (peer: string): void {
    if (this.connected.has(peer)) return
    const nowMs = this.now()
    this.connected.set(peer, { atMs: nowMs, requestedAtMs: nowMs })
    this.lastJoinMs = nowMs
    this.changed()
  }

  private changed (): void {
    this.wake?.()
  }

  private async nextChange (): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RECHECK_MS)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wake = undefined
  }
}
