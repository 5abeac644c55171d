/**
 * The farm as a long-lived controller peer sees it, for `cr tui`: the store's view,
 * heartbeats, connections, hail's verdicts and the log report, kept current from the
 * mesh's events. A snapshot is rebuilt only after something changed.
 */
import type { Controller, ControllerProgress } from '../node/controller/controller.js'
import type { Logger } from '../node/log.js'
import type { DraftBody } from '../protocol/events.js'
import { compareStamps } from '../protocol/stamp.js'
import type { FarmSource } from './farm-source.js'
import { HolderWatch } from './holder-watch.js'
import { logRecordOf, type FarmSnapshot, type HeartbeatSeen, type LogRecord, type MeshState, type SyncState } from './model/snapshot.js'

/** The log report kept in memory: the newest rows, enough for any screen and bounded on a busy farm. */
export const MAX_LOG_RECORDS = 5_000

export interface ControllerSourceInit {
  readonly controller: Controller
  readonly logger: Logger
  /** Static parts of the header: the farm's tag and where logs go. */
  readonly farm: string
  readonly logFile: string
  readonly timeoutMs: number
}

export class ControllerFarmSource implements FarmSource {
  private readonly listeners = new Set<() => void>()
  private readonly heartbeats = new Map<string, HeartbeatSeen>()
  private logs: LogRecord[] = []
  private sync: SyncState = { phase: 'opening' }
  private cached: FarmSnapshot | undefined
  private readonly holders: HolderWatch
  private readonly unsubscribes: (() => void)[] = []

  constructor (private readonly init: ControllerSourceInit) {
    this.holders = new HolderWatch(init.controller, init.logger, () => { this.changed() })
  }

  /**
   * Starts listening, reads the log report, then catches up in the background (the header
   * shows how far it got) and hails every holder once caught up.
   */
  async start (): Promise<void> {
    const { controller } = this.init
    this.unsubscribes.push(
      controller.replica().onAppended((verified) => {
        const record = logRecordOf(verified)
        if (record !== null) this.logs.push(record)
        if (this.logs.length > MAX_LOG_RECORDS * 1.5) this.logs = this.logs.slice(-MAX_LOG_RECORDS)
        this.changed()
      }),
      controller.on('ephemeral', ({ from, receivedAtMs, message }) => {
        this.heartbeats.set(from, { status: message.status, lease: message.lease, progressPct: message.progressPct, mayRender: message.mayRender, feedSeq: message.feedSeq, receivedAtMs })
        this.changed()
      }),
      controller.on('peer:connected', () => { this.changed() }),
      controller.on('peer:disconnected', () => { this.changed() })
    )
    // Subscribed first, so a record stored meanwhile is not lost; one read twice is dropped.
    const seen = new Set(this.logs.map(({ entry }) => entry.id))
    const report: LogRecord[] = []
    for await (const verified of controller.replica().allEvents()) {
      const record = logRecordOf(verified)
      if (record !== null && !seen.has(record.entry.id)) report.push(record)
    }
    report.sort((a, b) => compareStamps(a.entry.stamp, b.entry.stamp))
    this.logs = [...report, ...this.logs].slice(-MAX_LOG_RECORDS)
    this.changed()
    this.catchUp().catch((error: unknown) => { this.init.logger.error('catch-up failed', { error }) })
  }

  stop (): void {
    this.holders.stop()
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.listeners.clear()
  }

  snapshot (): FarmSnapshot {
    this.cached ??= this.build()
    return this.cached
  }

  subscribe (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async write (body: DraftBody): Promise<void> {
    await this.init.controller.write(body, { timeoutMs: this.init.timeoutMs })
  }

  private async catchUp (): Promise<void> {
    const onProgress = (progress: ControllerProgress): void => {
      if (progress.phase === 'looking-for-peers') this.setSync({ phase: 'looking-for-peers', elapsedMs: progress.elapsedMs })
      if (progress.phase === 'catching-up') this.setSync({ phase: 'catching-up', appended: progress.appended })
    }
    const { peers } = await this.init.controller.catchUp({ timeoutMs: this.init.timeoutMs, onProgress })
    this.setSync({ phase: peers.length === 0 ? 'alone' : 'live' })
    // Hail once the log is current, so the holders asked about are the ones it shows now.
    this.holders.start()
  }

  private setSync (sync: SyncState): void {
    this.sync = sync
    this.changed()
  }

  private changed (): void {
    this.cached = undefined
    for (const listener of this.listeners) listener()
  }

  private build (): FarmSnapshot {
    const { controller } = this.init
    const mesh: MeshState = {
      farm: this.init.farm,
      identity: controller.peerId,
      peersConnected: controller.connectedPeers().length,
      sync: this.sync,
      logFile: this.init.logFile
    }
    return {
      view: controller.view(),
      heartbeats: new Map(this.heartbeats),
      live: controller.livePeers(),
      goneHolders: this.holders.goneHolders(),
      held: controller.replica().versionVector(),
      logs: this.logs.slice(),
      mesh
    }
  }
}
