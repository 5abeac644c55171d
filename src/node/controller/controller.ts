/**
 * A controller: a short-lived, non-rendering peer for `cr submit`, `cr jobs` and the rest.
 * An artist's machine needs no daemon: each command opens the artist's data directory
 * (identity, event store, swarm key), joins the mesh, catches up from a peer so it reads
 * the farm's truth, writes what it must and waits until another peer has stored it, then
 * leaves. What it writes stays in its feed either way and replicates whenever this data
 * directory next meets a peer.
 *
 * Library code: it reports through callbacks and typed errors and never prints.
 */
import type { PrivateKey } from '@libp2p/interface'
import { IDLE_HEARTBEAT_TIMEOUT_MS } from '../../protocol/liveness.js'
import type { LogEntry } from '../../protocol/logs.js'
import type { DraftBody, VerifiedEvent } from '../../protocol/events.js'
import { judgeFact } from '../../protocol/fact-rules.js'
import { signerFromKey } from '../../protocol/signing.js'
import type { FarmView } from '../../protocol/view.js'
import { loadOrCreateIdentity } from '../identity.js'
import { createLogger, type Logger } from '../log.js'
import { resolveMeshConfig, type MeshConfig, type MeshConfigInput } from '../mesh/config.js'
import type { DirectMessage } from '../mesh/direct.js'
import { Mesh, type MeshEvents } from '../mesh/mesh.js'
import { readFarmKey } from '../mesh/swarm-key.js'
import { EventStore, storeDirOf, type EventStoreOptions } from '../store/event-store.js'
import { StoreInUseError } from '../store/errors.js'
import { ControllerClosedError, DataDirInUseError, NoPeerReachableError, NotAllowedError } from './errors.js'
import { followLogReport, logReport, type LogFilter } from './log-report.js'

/** How often a write asks its peers again whether they hold it yet. */
export const WRITE_CONFIRM_POLL_MS = 100
/** A controller lives for seconds, not days: it asks mDNS and pulls often, to meet peers and news soon. */
const CONTROLLER_MDNS_QUERY_INTERVAL_MS = 1_000
const CONTROLLER_ANTI_ENTROPY_INTERVAL_MS = 2_000
/** How often a wait for peers reports progress when nothing happens. */
const PROGRESS_TICK_MS = 1_000

/** A wait with nothing to wait for: `within` then just sleeps. */
const never = new Promise<never>(() => undefined)

export interface ControllerInit {
  readonly dataDir: string
  readonly swarmKeyFile: string
  readonly mesh?: MeshConfigInput
  readonly logger?: Logger
  /** Wall clock in ms, injected for tests. */
  readonly now?: () => number
}

/** What a long wait is doing, for a progress line. */
export type ControllerProgress =
  | { readonly phase: 'looking-for-peers', readonly elapsedMs: number }
  | { readonly phase: 'catching-up', readonly peers: number, readonly appended: number }
  | { readonly phase: 'awaiting-storage', readonly elapsedMs: number, readonly peers: number }

export interface WaitOptions {
  readonly timeoutMs: number
  readonly onProgress?: (progress: ControllerProgress) => void
}

export interface CatchUpResult {
  /** Peers we pulled from; empty when none was reachable and reads show only our local copy. */
  readonly peers: readonly string[]
  readonly appended: number
}

export type { LogFilter } from './log-report.js'

export interface Stopwatch {
  readonly elapsedMs: () => number
  readonly remainingMs: () => number
}

interface Opened {
  readonly store: EventStore
  readonly mesh: Mesh
  readonly heardAtMs: Map<string, number>
}

export class Controller {
  private readonly init: ControllerInit
  private readonly meshConfig: MeshConfig
  private readonly now: () => number
  private readonly logger: Logger
  private opened: Opened | undefined
  private lifecycle: Promise<void> = Promise.resolve()

  /** Checks the mesh settings at once (InvalidMeshConfigError), before anything is created on disk. */
  constructor (init: ControllerInit) {
    this.init = init
    this.now = init.now ?? Date.now
    this.logger = init.logger ?? createLogger('controller')
    const mesh = init.mesh ?? {}
    this.meshConfig = resolveMeshConfig({
      ...mesh,
      mdns: { queryIntervalMs: CONTROLLER_MDNS_QUERY_INTERVAL_MS, ...mesh.mdns },
      sync: { antiEntropyIntervalMs: CONTROLLER_ANTI_ENTROPY_INTERVAL_MS, ...mesh.sync }
    })
  }

  get dataDir (): string {
    return this.init.dataDir
  }

  /** Reads the swarm key (before creating anything), then the identity and store, and joins the mesh. Idempotent. */
  async open (): Promise<void> {
    await this.serially(async () => {
      this.opened ??= await this.launch()
    })
  }

  /** Leaves the mesh and closes the store. Idempotent. */
  async close (): Promise<void> {
    await this.serially(async () => {
      const opened = this.opened
      this.opened = undefined
      if (opened === undefined) return
      await opened.mesh.stop()
      await opened.store.close()
    })
  }

  /** This controller's peer id: the author of what it writes. */
  get peerId (): string {
    return this.running().mesh.peerId
  }

  /**
   * Waits for a peer, then pulls from every peer connected by then until each has nothing
   * more to send. Resolves with no peers when none answered in time: reads then show the
   * local copy, which the caller should say.
   */
  async catchUp (options: WaitOptions): Promise<CatchUpResult> {
    const { mesh } = this.running()
    const clock = this.stopwatch(options.timeoutMs)
    const failed = new Set<string>()
    for (;;) {
      const peers = await this.peersBesides(failed, clock, options)
      if (peers.length === 0) return { peers: [], appended: 0 }
      let appended = 0
      options.onProgress?.({ phase: 'catching-up', peers: peers.length, appended })
      const pulled = await Promise.all(peers.map(async (peer) => {
        try {
          for (let more = true; more;) {
            const result = await mesh.pullFrom(peer)
            appended += result.appended
            more = result.more
            options.onProgress?.({ phase: 'catching-up', peers: peers.length, appended })
          }
          return peer
        } catch (error) {
          // The peer left or refused mid-pull; another one may still answer.
          this.logger.debug('pull failed; trying the other peers', { peer, error })
          failed.add(peer)
          return undefined
        }
      }))
      const reached = pulled.filter((peer) => peer !== undefined)
      if (reached.length > 0) return { peers: reached, appended }
    }
  }

  /**
   * Appends `body` to our feed and resolves once another peer holds it. Throws
   * NoPeerReachableError after the timeout; the event stays in our feed regardless.
   */
  async write (body: DraftBody, options: WaitOptions): Promise<VerifiedEvent> {
    const { store, mesh } = this.running()
    const written = await appendJudged(store, body, this.now())
    const { author, seq } = written.event
    const clock = this.stopwatch(options.timeoutMs)
    for (;;) {
      const peers = mesh.connectedPeers()
      options.onProgress?.({ phase: 'awaiting-storage', elapsedMs: clock.elapsedMs(), peers: peers.length })
      // Each pull also tells a peer that lacks the event to fetch it, should gossip have missed it.
      const stored = await this.within(clock, Promise.all(peers.map(async (peer) => {
        try {
          return ((await mesh.pullFrom(peer)).peerVector[author] ?? 0) >= seq
        } catch (error) {
          // Not confirmed by this peer this round: asked again after the poll, until the timeout says so.
          this.logger.debug('could not ask a peer whether it stored the write', { peer, error })
          return false
        }
      })))
      if (stored?.includes(true) === true) return written
      if (clock.remainingMs() <= 0) throw new NoPeerReachableError(this.dataDir, options.timeoutMs, true)
      await this.within(clock, never, WRITE_CONFIRM_POLL_MS)
    }
  }

  view (): FarmView {
    return this.running().store.view()
  }

  /**
   * The live replica, to read only: for a report that follows the farm (cr export
   * --follow). Writes go through `write`, which judges and confirms them.
   */
  replica (): Pick<EventStore, 'view' | 'records' | 'versionVector' | 'readFeed' | 'readStoredFeed' | 'onAppended' | 'allEvents'> {
    return this.running().store
  }

  /**
   * Peers known to be up: connected to us, or heard in a heartbeat lately (an idle node
   * beats only every few seconds, see liveness.ts). Controllers are peers too, so this is
   * a superset of the live render nodes.
   */
  livePeers (): ReadonlySet<string> {
    const { mesh, heardAtMs } = this.running()
    const recent = [...heardAtMs].filter(([, atMs]) => this.now() - atMs <= IDLE_HEARTBEAT_TIMEOUT_MS).map(([peer]) => peer)
    return new Set([...mesh.connectedPeers(), ...recent])
  }

  /** Peers connected to us now. */
  connectedPeers (): string[] {
    return this.running().mesh.connectedPeers()
  }

  /**
   * The mesh's events (peers coming and going, heartbeats, direct messages), for a
   * controller that stays on the mesh and shows the farm live (cr tui). Returns the unsubscribe.
   */
  on<K extends keyof MeshEvents> (event: K, listener: (detail: MeshEvents[K]) => void): () => void {
    return this.running().mesh.on(event, listener)
  }

  /** Sends one direct message (a hail) to `peer`; throws DirectSendError when it cannot be delivered. */
  async sendDirect (peer: string, message: DirectMessage): Promise<void> {
    await this.running().mesh.sendDirect(peer, message)
  }

  /** How far `peer`'s clock is from ours, as its heartbeats tell, when worth a warning. */
  clockSkewOf (peer: string): number | null {
    return this.running().mesh.clockSkewOf(peer)
  }

  /** The log report's rows (seed: constellationLogTable) that match, oldest first. */
  async logs (filter: LogFilter = {}): Promise<LogEntry[]> {
    return await logReport(this.running().store, filter)
  }

  /** Calls `listener` with each matching row as its event arrives, until the returned function is called. */
  followLogs (filter: LogFilter, listener: (entry: LogEntry) => void): () => void {
    return followLogReport(this.running().store, filter, listener)
  }

  private async launch (): Promise<Opened> {
    const { swarmKey, privateKey, store } = await openDataDir(this.init.dataDir, this.init.swarmKeyFile, this.now)
    const mesh = new Mesh({
      privateKey,
      swarmKey,
      log: store,
      config: this.meshConfig,
      logger: this.logger,
      now: this.now
    })
    const heardAtMs = new Map<string, number>()
    // Any ephemeral message (a heartbeat, so far) shows its sender is up.
    mesh.on('ephemeral', ({ from, receivedAtMs }) => { heardAtMs.set(from, receivedAtMs) })
    try {
      await mesh.start()
    } catch (error) {
      await store.close()
      throw error
    }
    return { store, mesh, heardAtMs }
  }

  /** Connected peers not in `exclude`, waiting for one to connect while time remains. */
  private async peersBesides (exclude: ReadonlySet<string>, clock: Stopwatch, options: WaitOptions): Promise<string[]> {
    const { mesh } = this.running()
    const candidates = (): string[] => mesh.connectedPeers().filter((peer) => !exclude.has(peer))
    while (candidates().length === 0 && clock.remainingMs() > 0) {
      options.onProgress?.({ phase: 'looking-for-peers', elapsedMs: clock.elapsedMs() })
      let stopListening = (): void => undefined
      const connected = new Promise<void>((resolve) => { stopListening = mesh.on('peer:connected', () => { resolve() }) })
      // Wake now and then without a connection, so the progress line keeps counting.
      await this.within(clock, connected, PROGRESS_TICK_MS)
      stopListening()
    }
    return candidates()
  }

  private stopwatch (timeoutMs: number): Stopwatch {
    const startedAt = this.now()
    return {
      elapsedMs: () => this.now() - startedAt,
      remainingMs: () => startedAt + timeoutMs - this.now()
    }
  }

  /** `work`'s value, or undefined once the clock runs out or `capMs` passes first. No timer outlives it. */
  private async within<T> (clock: Stopwatch, work: Promise<T>, capMs = Number.POSITIVE_INFINITY): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => { resolve(undefined) }, Math.max(0, Math.min(capMs, clock.remainingMs())))
    })
    try {
      return await Promise.race([work, expired])
    } finally {
      clearTimeout(timer)
    }
  }

  private running (): Opened {
    if (this.opened === undefined) throw new ControllerClosedError()
    return this.opened
  }

  private async serially (task: () => Promise<void>): Promise<void> {
    const run = this.lifecycle.then(task)
    // The chain only orders open and close; `run`'s caller hears its failure.
    this.lifecycle = run.catch(() => undefined)
    await run
  }
}

/** What a controller writes with: the data directory's identity and store, on the farm the swarm key names. */
export interface OpenedDataDir {
  readonly swarmKey: Uint8Array
  readonly privateKey: PrivateKey
  readonly store: EventStore
}

/**
 * Reads the swarm key (before creating anything), then the identity and store. Throws
 * DataDirInUseError where another process holds the store.
 */
export async function openDataDir (dataDir: string, swarmKeyFile: string, now: () => number): Promise<OpenedDataDir> {
  const { psk: swarmKey, founder } = await readFarmKey(swarmKeyFile)
  const privateKey = await loadOrCreateIdentity(dataDir)
  const store = await openStore(dataDir, signerFromKey(privateKey), { authority: { founder }, now })
  return { swarmKey, privateKey, store }
}

/** Appends `body` to our feed, unless it is a fact that would have no effect: then NotAllowedError, and nothing written. */
export async function appendJudged (store: EventStore, body: DraftBody, wallTime: number): Promise<VerifiedEvent> {
  const refusal = body.type === 'job.submitted' ? null : judgeFact(store.view(), store.author, body)
  if (refusal !== null) throw new NotAllowedError(store.author, body.type, refusal)
  return (await store.append(body, wallTime)).event
}

async function openStore (dataDir: string, signer: ReturnType<typeof signerFromKey>, options: EventStoreOptions): Promise<EventStore> {
  try {
    return await EventStore.open(storeDirOf(dataDir), signer, options)
  } catch (error) {
    if (error instanceof StoreInUseError || isLocked(error)) throw new DataDirInUseError(dataDir, { cause: error })
    throw error
  }
}

/** LevelDB refuses a second opener with LEVEL_LOCKED, wrapped in a not-open error. */
function isLocked (error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as NodeJS.ErrnoException).code === 'LEVEL_LOCKED') return true
  }
  return false
}
