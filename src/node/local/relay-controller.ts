/**
 * A controller with no mesh of its own, for a command that writes on a machine that runs
 * a render node. It opens the command's own data directory (identity and store), catches
 * up from the node over the node's local endpoint, judges and signs its fact in its own
 * feed (its own identity: who may state what is as on the mesh), and relays the feed's new
 * events to the node, which admits them as a peer's and passes them on (relayed-log.ts).
 * The node storing them is the "a peer stored it" every write waits for. What it saves is
 * the mesh: starting libp2p, dialling, a pull over Noise, and asking until a peer confirms.
 */
import { appendJudged, openDataDir, type ControllerProgress } from '../controller/controller.js'
import { NoPeerReachableError } from '../controller/errors.js'
import type { FarmReads } from '../controller/farm-reads.js'
import { followLogReport, logReport, type LogFilter } from '../controller/log-report.js'
import type { EventStore } from '../store/event-store.js'
import { ReplayedEventError } from '../../protocol/errors.js'
import type { DraftBody, VerifiedEvent } from '../../protocol/events.js'
import type { LogEntry } from '../../protocol/logs.js'
import type { VersionVector } from '../../protocol/version-vector.js'
import type { FarmView } from '../../protocol/view.js'
import type { LocalClient } from './client.js'
import { HolderGoneError } from './errors.js'
import { MAX_RELAY_EVENTS, type Liveness } from './messages.js'

export interface RelayControllerInit {
  readonly dataDir: string
  readonly swarmKeyFile: string
  /** This machine's render node, on the command's farm; the controller closes it. */
  readonly node: LocalClient
  /** Wall clock in ms, injected for tests. */
  readonly now?: () => number
}

export class RelayController implements FarmReads {
  /** What the node held when it last answered: where our feed's next relay starts. */
  private nodeHas: VersionVector = {}
  private liveness: Liveness = { reachedPeer: false, livePeers: [], clockSkews: {} }
  private closed = false

  private constructor (readonly dataDir: string, private readonly store: EventStore, private readonly node: LocalClient, private readonly now: () => number) {}

  /** Opens the data directory's store (DataDirInUseError where another process holds it). */
  static async open (init: RelayControllerInit): Promise<RelayController> {
    const now = init.now ?? Date.now
    const { store } = await openDataDir(init.dataDir, init.swarmKeyFile, now)
    return new RelayController(init.dataDir, store, init.node, now)
  }

  /**
   * Pulls from the node until this store holds what the node held, and asks it who is up.
   * The node's failures (HolderGoneError when it stops or speaks an older endpoint,
   * HolderRefusedError, LocalWireError) come before anything is written, so the command
   * can still join the mesh itself.
   */
  async catchUp (onProgress?: (progress: ControllerProgress) => void): Promise<void> {
    const liveness = this.node.liveness()
    // Avoids an unhandled rejection while the pulls run; the await below rethrows it.
    liveness.catch(() => undefined)
    // An author whose event this store refuses (a type too new for this version, a fork) is held back alone, as a pull over the mesh holds it.
    const skipped: Record<string, number> = {}
    let appended = 0
    for (let progressed = true; progressed;) {
      const pulled = await this.node.pull({ ...this.store.versionVector(), ...skipped })
      this.nodeHas = pulled.have
      progressed = false
      for (const outcome of await this.store.ingestBatch(pulled.events)) {
        if (outcome.kind === 'appended') {
          appended++
          progressed = true
        } else if (outcome.kind === 'rejected' && !(outcome.error instanceof ReplayedEventError)) {
          const author = outcome.error.ref?.author
          if (author !== undefined && skipped[author] === undefined) {
            skipped[author] = pulled.have[author] ?? 0
            progressed = true
          }
        }
      }
      onProgress?.({ phase: 'catching-up', peers: 1, appended })
      progressed &&= pulled.more
    }
    this.liveness = await liveness
  }

  /**
   * Appends `body` to our feed (judged first: NotAllowedError, nothing written) and
   * resolves once the node holds it. NoPeerReachableError when the node does not store it
   * within `timeoutMs` or stops first; the event stays in our feed either way.
   */
  async write (body: DraftBody, timeoutMs: number): Promise<VerifiedEvent> {
    const written = await appendJudged(this.store, body, this.now())
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })
    try {
      const stored = await Promise.race([this.relayOwnFeed(written.event.seq), expired])
      if (!stored) throw new NoPeerReachableError(this.dataDir, timeoutMs, true)
      return written
    } catch (error) {
      if (error instanceof HolderGoneError) throw new NoPeerReachableError(this.dataDir, timeoutMs, true)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  view (): FarmView {
    return this.store.view()
  }

  /** Who the node sees up, itself among them, as it said during the catch-up. */
  livePeers (): ReadonlySet<string> {
    return new Set(this.liveness.livePeers)
  }

  clockSkewOf (peer: string): number | null {
    return this.liveness.clockSkews[peer] ?? null
  }

  async logs (filter: LogFilter = {}): Promise<LogEntry[]> {
    return await logReport(this.store, filter)
  }

  followLogs (filter: LogFilter, listener: (entry: LogEntry) => void): () => void {
    return followLogReport(this.store, filter, listener)
  }

  /** Closes the store and the node's connection. Idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.node.close()
    await this.store.close()
  }

  /**
   * Relays our feed from the first event the node lacks up to `seq`: an earlier write no
   * peer stored goes first, or the node would see a gap. True once the node holds `seq`.
   */
  private async relayOwnFeed (seq: number): Promise<boolean> {
    const author = this.store.author
    for (;;) {
      const from = (this.nodeHas[author] ?? 0) + 1
      if (from > seq) return true
      const events = await this.store.readFeed(author, from, Math.min(MAX_RELAY_EVENTS, seq - from + 1))
      const { have } = await this.node.relay(events)
      // A node that took the events in yet holds none of them cannot be waited out.
      if ((have[author] ?? 0) < from) return false
      this.nodeHas = have
    }
  }
}
