/**
 * `cr export`: a full export of a farm of many finished jobs to SQLite and to a real
 * PostgreSQL server, an incremental export after 1,000 new events, and the `--follow`
 * lag (targets: full SQLite export of 100k jobs < 10 s, incremental < 0.5 s, follow lag
 * p99 < 1 s). Building 100k jobs (~1M signed events) into LevelDB takes minutes before
 * anything is timed; `--small` builds fewer.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { EventStore } from '../src/node/store/event-store.js'
import { encodeEvent } from '../src/protocol/encoding.js'
import type { DraftBody, VerifiedEvent } from '../src/protocol/events.js'
import { Replica } from '../src/protocol/replica.js'
import { signerFromKey, type Signer } from '../src/protocol/signing.js'
import { eventCount } from '../src/protocol/version-vector.js'
import { exportOnce, followExport, FOLLOW_BATCH_MS } from '../src/report/export.js'
import { createPostgresSink } from '../src/report/postgres.js'
import type { ReportSink } from '../src/report/sink.js'
import { liveStoreSource, storeSource } from '../src/report/source.js'
import { createSqliteSink } from '../src/report/sqlite.js'
import { startPostgres } from '../test/helpers/databases.js'
import { formatMs, percentile, type Row } from './report.js'
import type { BenchReport } from './results.js'

/** Blocks per job: a submit and three facts per block make ten events a job. */
const BLOCKS_PER_JOB = 3
const EVENTS_PER_JOB = 1 + 3 * BLOCKS_PER_JOB
const FRAMES_PER_BLOCK = 2
const RENDER_NODES = 8
/** One job in this many is deleted once rendered, as artists clean up: their rows stay, rebuilt from the log. */
const DELETED_EVERY = 100
const INCREMENTAL_EVENTS = 1_000
const INGEST_BATCH = 1_000
/** Follow lag samples, and the pause between them (events trickling in, as on a farm). */
const FOLLOW_SAMPLES = 200
const FOLLOW_GAP_MS = 20

/**
 * Jobs in the store: 10,000 by default; `--export-full` the target's 100,000 (about 1M
 * events, whose store takes some 15 minutes to build on a 2-core machine); `--small` 2,000.
 */
export function exportBenchJobs (args: readonly string[]): number {
  if (args.includes('--export-full')) return 100_000
  return args.includes('--small') ? 2_000 : 10_000
}

/** Keys from fixed seeds: every run builds the same farm, with the same peer ids. */
async function benchSigners (): Promise<{ artist: Signer, nodes: Signer[] }> {
  const signer = async (index: number): Promise<Signer> => signerFromKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(index + 1)))
  return { artist: await signer(0), nodes: await Promise.all(Array.from({ length: RENDER_NODES }, async (_, index) => signer(index + 1))) }
}

/** Writes a farm's events as its artist and render nodes would, and ingests them into a store. */
class FarmWriter {
  private wallTime = 1_700_000_000_000
  private pending: VerifiedEvent[] = []
  private jobs = 0
  private readonly replica: Replica

  constructor (private readonly artist: Signer, private readonly nodes: readonly Signer[], readonly store: EventStore) {
    this.replica = new Replica({ authority: { founder: artist.author } })
  }

  private write (signer: Signer, body: DraftBody): VerifiedEvent {
    const verified = this.replica.draft(signer, this.wallTime += 1000, body)
    this.replica.commit(verified)
    this.pending.push(verified)
    return verified
  }

  /** One job, every block rendered by one node: EVENTS_PER_JOB events. Returns its id. */
  renderedJob (): string {
    const index = this.jobs++
    const submitted = this.write(this.artist, {
      type: 'job.submitted',
      job: {
        name: `shot${index}`, project: `project${index % 20}`, user: 'bench', software: 'blender', scenePath: '/scenes/bench.blend', targetPath: '/renders/bench',
        frameStart: 1, frameEnd: BLOCKS_PER_JOB * FRAMES_PER_BLOCK, blockSize: FRAMES_PER_BLOCK, layer: null, camera: null, imageName: null, imageFormat: null,
        commandTemplate: null, priority: 50, classification: 'A', maxRetries: 3, enabled: true
      }
    })
    if (submitted.event.body.type !== 'job.submitted') throw new Error('not a submission')
    const jobId = submitted.event.body.job.id
    const node = this.nodes[index % this.nodes.length]
    if (node === undefined) throw new RangeError('no render nodes')
    for (let block = 0; block < BLOCKS_PER_JOB; block++) {
      const lease = { jobId, block, epoch: 1 }
      this.write(node, { type: 'block.claimed', ...lease })
      this.write(node, { type: 'block.started', ...lease })
      this.write(node, { type: 'block.finished', ...lease, wallMs: 2000, frameMs: Array.from({ length: FRAMES_PER_BLOCK }, () => 1000) })
    }
    return jobId
  }

  /** The artist deletes a job. */
  deleteJob (jobId: string): void {
    this.write(this.artist, { type: 'job.deleted', jobId })
  }

  /** Who writes logLine's events. */
  get logAuthor (): string {
    return this.logNode().author
  }

  /** One more event on the farm: a log line from a node. */
  logLine (text: string): void {
    this.write(this.logNode(), { type: 'log.recorded', clientName: 'render-0', jobId: null, block: null, description: text, outputTail: [] })
  }

  private logNode (): Signer {
    const node = this.nodes[0]
    if (node === undefined) throw new RangeError('no render nodes')
    return node
  }

  async flush (): Promise<void> {
    for (let from = 0; from < this.pending.length; from += INGEST_BATCH) {
      await this.store.ingestBatch(this.pending.slice(from, from + INGEST_BATCH).map((verified) => encodeEvent(verified.event)))
    }
    this.pending = []
  }
}

async function timed (work: () => Promise<unknown>): Promise<number> {
  return (await timedWithCpu(work)).ms
}

/** Wall time, and the CPU time of this process (all its threads): on a shared machine the second says more. */
async function timedWithCpu (work: () => Promise<unknown>): Promise<{ ms: number, cpuMs: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await work()
  const { user, system } = process.cpuUsage(cpu)
  return { ms: performance.now() - started, cpuMs: (user + system) / 1000 }
}

/** A store at `location` holding `jobs` rendered jobs, with the writer that filled it. */
export async function buildBenchStore (location: string, jobs: number): Promise<FarmWriter> {
  const { artist, nodes } = await benchSigners()
  const store = await EventStore.open(location, artist, { authority: { founder: artist.author } })
  const writer = new FarmWriter(artist, nodes, store)
  for (let job = 0; job < jobs; job++) {
    const jobId = writer.renderedJob()
    if (job % DELETED_EVERY === DELETED_EVERY - 1) writer.deleteJob(jobId)
    if (job % 1_000 === 999) await writer.flush()
  }
  await writer.flush()
  return writer
}

async function exportInto (store: EventStore, sink: ReportSink): Promise<void> {
  try {
    await exportOnce(storeSource(store), sink, Date.now)
  } finally {
    await sink.close()
  }
}

/** Full PostgreSQL export into a server of the bench's own, on a Unix socket. */
async function postgresFullMs (store: EventStore): Promise<number> {
  const server = await startPostgres()
  try {
    const database = await server.createDatabase('bench')
    return await timed(async () => exportInto(store, createPostgresSink(server.url(database))))
  } finally {
    await server.stop()
  }
}

/**
 * Follow lag: events trickle into the live store one at a time; each sample is the time
 * from handing the event to the store until the batch holding it is committed in SQLite.
 */
async function followLagsMs (writer: FarmWriter, file: string): Promise<number[]> {
  const { store } = writer
  const source = liveStoreSource(store)
  const sink = createSqliteSink(file)
  const start = await exportOnce(source, sink, Date.now)
  const sentAt = new Map<number, number>()
  const lags: number[] = []
  const author = writer.logAuthor
  const follower = followExport(source, sink, start.vector, {
    now: Date.now,
    onBatch: ({ vector }) => {
      const committedAt = performance.now()
      for (const [seq, at] of sentAt) {
        if (seq > (vector[author] ?? 0)) continue
        lags.push(committedAt - at)
        sentAt.delete(seq)
      }
    },
    onError: (error) => { throw error }
  })
  try {
    for (let sample = 0; sample < FOLLOW_SAMPLES; sample++) {
      writer.logLine(`sample ${sample}`)
      sentAt.set((store.versionVector()[author] ?? 0) + 1, performance.now())
      await writer.flush()
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_GAP_MS))
    }
  } finally {
    await follower.stop()
    await sink.close()
  }
  return lags
}

function scaleNote (jobs: number): string {
  return jobs < 100_000 ? `; this run is ${(jobs / 100_000).toFixed(2)}x that scale` : ''
}

export async function runExportBench (options: { readonly jobs: number }): Promise<BenchReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-bench-export-'))
  try {
    let writer: FarmWriter | undefined
    const buildMs = await timed(async () => { writer = await buildBenchStore(path.join(dir, 'store'), options.jobs) })
    if (writer === undefined) throw new Error('the store was not built')
    const { store } = writer
    const events = eventCount(store.versionVector())
    const file = path.join(dir, 'report.sqlite')
    const full = await timedWithCpu(async () => exportInto(store, createSqliteSink(file)))
    const postgresMs = await postgresFullMs(store)
    // New jobs rendered, and an old one deleted: its rows are only marked.
    const oldJob = store.view().jobs[0]?.id
    if (oldJob !== undefined) writer.deleteJob(oldJob)
    for (let job = 0; job < Math.ceil(INCREMENTAL_EVENTS / EVENTS_PER_JOB); job++) writer.renderedJob()
    await writer.flush()
    const newEvents = eventCount(store.versionVector()) - events
    const incremental = await timedWithCpu(async () => exportInto(store, createSqliteSink(file)))
    // A job rendered and deleted between two runs is rebuilt from the whole log.
    writer.deleteJob(writer.renderedJob())
    await writer.flush()
    const rebuilding = await timedWithCpu(async () => exportInto(store, createSqliteSink(file)))
    const lags = await followLagsMs(writer, path.join(dir, 'mirror.sqlite'))
    await store.close()
    const scale = `${options.jobs.toLocaleString('en-US')} jobs, ${events.toLocaleString('en-US')} events`
    const rows: Row[] = [
      ['building the store', formatMs(buildMs), 'signing and ingesting, not part of the export'],
      ['full export to SQLite', formatMs(full.ms), `${formatMs(full.cpuMs)} CPU; target < 10 s at 100,000 jobs${scaleNote(options.jobs)}`],
      ['full export to PostgreSQL', formatMs(postgresMs), 'the same store, into a local server on a Unix socket'],
      [`incremental after ${newEvents.toLocaleString('en-US')} events`, formatMs(incremental.ms), `${formatMs(incremental.cpuMs)} CPU; target < 0.5 s; new jobs and an old job deleted`],
      ['incremental after a job came and went', formatMs(rebuilding.ms), `${formatMs(rebuilding.cpuMs)} CPU; a job rendered and deleted since the last run is rebuilt from the whole log`],
      [`--follow lag p50 (${lags.length} events)`, formatMs(percentile(lags, 0.5)), `one event every ${FOLLOW_GAP_MS} ms, batched over ${FOLLOW_BATCH_MS} ms`],
      ['--follow lag p99', formatMs(percentile(lags, 0.99)), 'target < 1 s']
    ]
    return {
      tables: [{ title: `cr export (${scale}, ${RENDER_NODES} nodes)`, rows }],
      figures: {
        'export.fullSqliteMs': { value: full.ms, note: `${scale}; ${formatMs(full.cpuMs)} CPU`, ...(options.jobs < 100_000 ? { unjudged: 'the target is at 100,000 jobs (--export-full)' } : {}) },
        'export.incrementalMs': { value: incremental.ms, note: `${newEvents.toLocaleString('en-US')} events` },
        'export.followP99Ms': { value: percentile(lags, 0.99), note: `${lags.length} events` }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
