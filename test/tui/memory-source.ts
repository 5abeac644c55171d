/**
 * A farm for the TUI's tests with no mesh: real signed events in a real replica (the
 * World of test/helpers/farm-events.ts), written as author 0, the farm's founder. The
 * app reads it and writes to it through the same FarmSource a controller provides.
 */
import type { DraftBody, JobFields, JobSpec, VerifiedEvent } from '../../src/protocol/events.js'
import type { FarmSource } from '../../src/tui/farm-source.js'
import { logRecordOf, type FarmSnapshot, type HeartbeatSeen, type LogRecord, type MeshState } from '../../src/tui/model/snapshot.js'
import { jobSpec, makeSigners, World } from '../helpers/farm-events.js'

export class MemoryFarmSource implements FarmSource {
  readonly heartbeats = new Map<string, HeartbeatSeen>()
  readonly live = new Set<string>()
  goneHolders: ReadonlySet<string> = new Set()
  mesh: MeshState = { farm: '_test._udp.local', identity: 'controller-peer-1234abcd', peersConnected: 3, sync: { phase: 'live' }, logFile: '/tmp/data/tui.log' }
  /** Bodies written through the app, in order. */
  readonly written: DraftBody[] = []
  /** When set, the next write fails with it, as the controller's would. */
  failNext: Error | undefined
  private readonly listeners = new Set<() => void>()
  private readonly logs: LogRecord[] = []

  private constructor (readonly world: World) {}

  /** A farm of `authors` signers: 0 steers (the founder), the others are render nodes. */
  static async create (authors = 4): Promise<MemoryFarmSource> {
    return new MemoryFarmSource(new World(await makeSigners(authors)))
  }

  author (who: number): string {
    return this.world.author(who)
  }

  /** `who` writes `body`, as a node or the artist would; the app hears of it. */
  as (who: number, body: DraftBody): VerifiedEvent {
    const verified = this.world.write(who, body)
    if (who !== 0) this.world.sync(0)
    const record = logRecordOf(verified)
    if (record !== null) this.logs.push(record)
    this.changed()
    return verified
  }

  submit (fields: Partial<JobFields> = {}): JobSpec {
    const { body } = this.as(0, { type: 'job.submitted', job: jobSpec(fields) }).event
    if (body.type !== 'job.submitted') throw new Error('no submission written')
    return body.job
  }

  /** Node `who` claims and starts block `block` of `job` at `epoch`. */
  renders (who: number, job: JobSpec, block: number, epoch = 1): void {
    this.as(who, { type: 'block.claimed', jobId: job.id, block, epoch })
    this.as(who, { type: 'block.started', jobId: job.id, block, epoch })
  }

  /** Node `who` finishes block `block` of `job`, `frameMs` for each of its frames. */
  finishes (who: number, job: JobSpec, block: number, frameMs: readonly number[], epoch = 1): void {
    this.as(who, { type: 'block.finished', jobId: job.id, block, epoch, wallMs: frameMs.reduce((sum, ms) => sum + ms, 0), frameMs: [...frameMs] })
  }

  beat (who: number, beat: Partial<HeartbeatSeen>): void {
    const peer = this.author(who)
    this.live.add(peer)
    this.heartbeats.set(peer, { status: 'RENDERING', lease: null, progressPct: null, mayRender: true, feedSeq: 0, receivedAtMs: Date.now(), ...beat })
    this.changed()
  }

  changed (): void {
    for (const listener of this.listeners) listener()
  }

  snapshot (): FarmSnapshot {
    const replica = this.world.replicas[0]
    if (replica === undefined) throw new Error('no replica')
    return { view: replica.view(), heartbeats: new Map(this.heartbeats), live: new Set(this.live), goneHolders: this.goneHolders, held: replica.versionVector(), logs: [...this.logs], mesh: this.mesh }
  }

  subscribe (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async write (body: DraftBody): Promise<void> {
    await Promise.resolve()
    const failure = this.failNext
    this.failNext = undefined
    if (failure !== undefined) throw failure
    this.written.push(body)
    this.as(0, body)
  }
}
