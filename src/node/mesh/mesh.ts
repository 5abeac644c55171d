/**
 * The mesh: a libp2p peer that finds the studio's other peers with no address typed and
 * replicates the log with them, losing nothing. It wires the parts in this folder to a
 * store:
 *
 *   host.ts       libp2p with the swarm key, TCP, Noise, Yamux, mDNS, gossipsub
 *   discovery.ts  dials what mDNS reports and the static `--peer` addresses
 *   keep-alive.ts drops a hung peer's connection within two seconds
 *   push.ts       our new events out on gossip at once; gossiped events into the log
 *   sync.ts       pull: swap version vectors, stream exactly the missing events
 *   scheduler.ts  when to pull (new connection, subscription, gap, behind, periodic)
 *   catch-up.ts   holds a starting node back until it holds what its peers hold
 *   ephemeral.ts  heartbeats on a second topic, never logged
 *   offences.ts   scores bad input per peer and bans repeat offenders
 *
 * The node runtime creates one Mesh over its EventStore and identity, starts it, and
 * listens to its events; liveness and hail use the ephemeral channel.
 */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { EventRef } from '../../protocol/errors.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import { createLogger, type Logger } from '../log.js'
import { resolveMeshConfig, type MeshConfig, type MeshConfigInput } from './config.js'
import { PeerDialer, type DialFailure } from './discovery.js'
import { DirectChannel, type DirectMessage, type ReceivedDirect } from './direct.js'
import { ClockSkew, describeSkew } from './clock-skew.js'
import { Emitter } from './emitter.js'
import { EphemeralChannel, type EphemeralMessage, type ReceivedEphemeral } from './ephemeral.js'
import { MeshNotRunningError } from './errors.js'
import { createPeerHost, type PeerHost } from './host.js'
import { KeepAlive } from './keep-alive.js'
import { PeerOffences, type Offence, type OffenceVerdict, type RefusalReason } from './offences.js'
import { LOG_TOPIC } from './protocols.js'
import { LogGossip } from './push.js'
import { PullScheduler } from './scheduler.js'
import { SyncService, type PullResult, type SyncLog } from './sync.js'

/** A peer's clock is forgotten once it has been silent this long. */
const FORGET_CLOCKS_AFTER_MS = 10 * 60_000

/** What the mesh needs of the store (EventStore provides it). */
export interface MeshLog extends SyncLog {
  /** Called after every event is stored, ours and remote ones alike. */
  onAppended: (listener: (event: { readonly event: EventRef }, bytes: Uint8Array) => void) => () => void
}

export interface MeshInit {
  /** The node identity (identity.ts): peer key and event-signing key in one. */
  readonly privateKey: PrivateKey
  /** The swarm key file's bytes (swarm-key.ts). */
  readonly swarmKey: Uint8Array
  readonly log: MeshLog
  readonly config?: MeshConfigInput
  readonly logger?: Logger
  /** Wall clock in ms, injected for tests. */
  readonly now?: () => number
}

export interface MeshEvents {
  'peer:connected': { readonly peer: string }
  'peer:disconnected': { readonly peer: string }
  /** A connection to or from a banned peer, or a new identity from a banned peer's address, was refused. */
  'peer:refused': { readonly peer: string, readonly why: RefusalReason }
  /** Input that was dropped, with the sender and what it cost it. */
  offence: Offence & OffenceVerdict
  /** A dial to a discovered or static peer failed (wrong swarm key, gone, refused). */
  'dial:failed': DialFailure
  /** A heartbeat or other ephemeral message from a peer. */
  ephemeral: ReceivedEphemeral
  /** A message sent to us alone: hail, hail answers, a holder's claim. */
  direct: ReceivedDirect
  /**
   * A pull from `peer` ended well. `peerVector` is what the peer held as it began (so, how
   * long our own feed is there); `complete` says we now hold all of it, short of events we
   * refused, rather than the session stopping at its event limit.
   */
  pulled: { readonly peer: string, readonly peerVector: VersionVector, readonly appended: number, readonly complete: boolean }
}

/** The parts that live from start to stop. */
interface Running {
  readonly host: PeerHost
  readonly dialer: PeerDialer
  readonly keepAlive: KeepAlive
  readonly sync: SyncService
  readonly scheduler: PullScheduler
  readonly gossip: LogGossip
  readonly ephemeral: EphemeralChannel
  readonly direct: DirectChannel
  readonly unsubscribe: () => void
}

export class Mesh {
  readonly peerId: string
  readonly config: MeshConfig
  private readonly init: MeshInit
  private readonly logger: Logger
  private readonly now: () => number
  private readonly offences: PeerOffences
  private readonly clocks = new ClockSkew()
  private readonly events: Emitter<MeshEvents>
  private running: Running | undefined
  /** Start and stop run one after the other, so overlapping calls cannot interleave. */
  private lifecycle: Promise<void> = Promise.resolve()

  constructor (init: MeshInit) {
    this.init = init
    this.config = resolveMeshConfig(init.config)
    this.peerId = peerIdFromPrivateKey(init.privateKey).toString()
    this.logger = init.logger ?? createLogger('mesh')
    this.now = init.now ?? Date.now
    this.offences = new PeerOffences(this.config.offences, this.now)
    this.events = new Emitter(this.logger)
  }

  /** Starts listening, discovering and replicating. Idempotent. */
  async start (): Promise<void> {
    await this.serially(async () => {
      this.running ??= await this.launch()
    })
  }

  /** Stops everything and waits until no timer, socket or store access is left. Idempotent. */
  async stop (): Promise<void> {
    await this.serially(async () => {
      const running = this.running
      this.running = undefined
      if (running !== undefined) await this.shutdown(running)
    })
  }

  on<K extends keyof MeshEvents> (event: K, listener: (detail: MeshEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** Where peers can reach us, each ending in /p2p/<our id>. */
  addresses (): string[] {
    return this.running?.host.getMultiaddrs().map(String) ?? []
  }

  connectedPeers (): string[] {
    return this.running?.host.getPeers().map(String) ?? []
  }

  /** How far `peer`'s clock is from ours (our clock minus its), when beyond the warning threshold; null otherwise or unknown. */
  clockSkewOf (peer: string): number | null {
    return this.clocks.skewOf(peer)
  }

  private heard (received: ReceivedEphemeral): void {
    if (this.clocks.observe(received.from, received.clockOffsetMs, received.receivedAtMs)) {
      this.logger.warn('peer clock is off', { peer: received.from, skew: describeSkew(received.clockOffsetMs), offsetMs: received.clockOffsetMs })
    }
    this.clocks.prune(received.receivedAtMs, FORGET_CLOCKS_AFTER_MS)
    this.events.emit('ephemeral', received)
  }

  /** Sends a heartbeat (or other ephemeral message) to every peer; resolves with how many got it directly. */
  async publishEphemeral (message: EphemeralMessage): Promise<number> {
    if (this.running === undefined) throw new MeshNotRunningError('publish an ephemeral message')
    return this.running.ephemeral.publish(message)
  }

  /** Sends one message to one peer, dialling it if need be; throws DirectSendError when undeliverable. */
  async sendDirect (peer: string, message: DirectMessage): Promise<void> {
    if (this.running === undefined) throw new MeshNotRunningError('send a direct message')
    await this.running.direct.send(peer, message)
  }

  /**
   * Scores bad input that reached the node through the mesh but was judged above it (a
   * direct claim the store refused), as the mesh scores its own: a ban hangs up on the peer.
   */
  reportOffence (offence: Offence): void {
    this.report(this.running?.host, offence)
  }

  /** Whether the node's view shows a lease held anywhere: the keep-alive's pace and the anti-entropy pulls' follow it. */
  setWorkInFlight (busy: boolean): void {
    this.running?.keepAlive.setWorkInFlight(busy)
    this.running?.scheduler.setWorkInFlight(busy)
  }

  /** Queues a pull from `peer`: it told us (in a heartbeat or an answer) that it holds events we lack. */
  requestPull (peer: string): void {
    this.running?.scheduler.request(peerIdFromString(peer), 'behind')
  }

  /**
   * Pulls from `peer` now, outside the schedule, and says what it held when the pull began.
   * A short-lived controller uses it to catch up before it reads, and to learn that a peer
   * has stored what it wrote: the pull also tells a peer that lacks our events to fetch them.
   */
  async pullFrom (peer: string): Promise<PullResult & { readonly peerVector: VersionVector }> {
    if (this.running === undefined) throw new MeshNotRunningError('pull from a peer')
    return this.pullReporting(this.running.sync, peerIdFromString(peer))
  }

  /** Every pull, scheduled or asked for, goes through here, so `pulled` hears of each. */
  private async pullReporting (sync: SyncService, peer: PeerId): Promise<PullResult & { readonly peerVector: VersionVector }> {
    let peerVector: VersionVector = {}
    const result = await sync.pull(peer, (vector) => { peerVector = vector })
    this.events.emit('pulled', { peer: peer.toString(), peerVector, appended: result.appended, complete: !result.more })
    return { ...result, peerVector }
  }

  private async serially (task: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(task)
    // The chain only orders start and stop; `run`'s caller hears its failure.
    this.lifecycle = run.catch(() => undefined)
    await run
  }

  private async launch (): Promise<Running> {
    const { config, logger } = this
    const host = await createPeerHost({
      privateKey: this.init.privateKey,
      swarmKey: this.init.swarmKey,
      config,
      connectionGater: this.offences.gater((peer, why) => { this.events.emit('peer:refused', { peer, why }) })
    })
    const report = (offence: Offence): void => { this.report(host, offence) }
    const sync = new SyncService({
      host,
      log: this.init.log,
      config: config.sync,
      logger: logger.child('sync'),
      onOffence: report,
      onBehind: (peer) => { scheduler.request(peer, 'behind') }
    })
    const scheduler = new PullScheduler({
      pull: async (peer) => this.pullReporting(sync, peer),
      connectedPeers: () => host.getPeers(),
      antiEntropyIntervalMs: config.sync.antiEntropyIntervalMs,
      idleAntiEntropyIntervalMs: config.sync.idleAntiEntropyIntervalMs,
      logger: logger.child('scheduler')
    })
    const gossip = new LogGossip({
      pubsub: host.services.pubsub,
      log: this.init.log,
      logger: logger.child('push'),
      onOffence: report,
      onGap: (peer) => { scheduler.request(peer, 'gap') }
    })
    const ephemeral = new EphemeralChannel({
      pubsub: host.services.pubsub,
      now: this.now,
      logger: logger.child('ephemeral'),
      onOffence: report,
      onMessage: (received) => { this.heard(received) }
    })
    const direct = new DirectChannel({
      host,
      now: this.now,
      logger: logger.child('direct'),
      onOffence: report,
      onMessage: (received) => { this.events.emit('direct', received) }
    })
    const dialer = new PeerDialer({
      host,
      mdns: host.services.mdns,
      bootstrapPeers: config.bootstrapPeers,
      bootstrapRedialMs: config.bootstrapRedialMs,
      isBanned: (peer) => this.offences.isBanned(peer),
      logger: logger.child('discovery'),
      onDialFailed: (failure) => { this.events.emit('dial:failed', failure) }
    })
    const keepAlive = new KeepAlive({
      host,
      intervalMs: config.keepAliveIntervalMs,
      timeoutMs: config.keepAliveTimeoutMs,
      idleIntervalMs: config.keepAliveIdleIntervalMs,
      idleTimeoutMs: config.keepAliveIdleTimeoutMs,
      logger: logger.child('keep-alive')
    })
    this.watchPeers(host, scheduler)
    try {
      await sync.start()
      await direct.start()
      await keepAlive.start()
      await host.start()
      gossip.start()
      ephemeral.start()
      scheduler.start()
      dialer.start()
    } catch (error) {
      await host.stop()
      throw error
    }
    const unsubscribe = this.init.log.onAppended(({ event }, bytes) => {
      // Each new event is one that honest peers may replay to us: it raises their replay allowance.
      this.offences.noteAppended()
      if (event.author === this.peerId) gossip.publish(bytes)
    })
    logger.info('mesh started', { peer: this.peerId, addresses: host.getMultiaddrs().map(String) })
    return { host, dialer, keepAlive, sync, scheduler, gossip, ephemeral, direct, unsubscribe }
  }

  /** New connections and log-topic subscriptions trigger a pull: each side then learns what the other lacks. */
  private watchPeers (host: PeerHost, scheduler: PullScheduler): void {
    host.addEventListener('peer:connect', ({ detail: peer }) => {
      scheduler.request(peer, 'connected')
      this.events.emit('peer:connected', { peer: peer.toString() })
    })
    host.addEventListener('peer:disconnect', ({ detail: peer }) => {
      scheduler.forget(peer)
      this.events.emit('peer:disconnected', { peer: peer.toString() })
    })
    host.services.pubsub.addEventListener('subscription-change', ({ detail }) => {
      if (detail.subscriptions.some(({ topic, subscribe }) => subscribe && topic === LOG_TOPIC)) {
        scheduler.request(detail.peerId, 'subscribed')
      }
    })
  }

  private async shutdown (running: Running): Promise<void> {
    running.unsubscribe()
    running.dialer.stop()
    // The scheduler waits for its running pull, which the sync service aborts.
    const scheduled = running.scheduler.stop()
    await running.sync.stop()
    await scheduled
    await running.gossip.stop()
    running.ephemeral.stop()
    await running.direct.stop()
    await running.keepAlive.stop()
    await running.host.stop()
    this.logger.info('mesh stopped', { peer: this.peerId })
  }

  private report (host: PeerHost | undefined, offence: Offence): void {
    const verdict = this.offences.record(offence)
    // Input that costs nothing (a replay racing a pull, a fork relayed) is routine: keep it out of warnings.
    const level = verdict.cost > 0 ? 'warn' : 'debug'
    this.logger[level]('dropped bad input', { ...offence, cost: verdict.cost, points: verdict.points })
    this.events.emit('offence', { ...offence, ...verdict })
    if (!verdict.banned) return
    this.logger.warn('peer banned', { peer: offence.peer, banMs: this.config.offences.banDurationMs })
    host?.hangUp(peerIdFromString(offence.peer)).catch((error: unknown) => {
      this.logger.debug('hang up failed', { peer: offence.peer, error })
    })
  }
}
