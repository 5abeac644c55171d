/**
 * `cr export` to SQLite: a full export of a farm of many finished jobs, then an
 * incremental export after 1,000 new events (targets: full export of 100k jobs < 10 s,
 * incremental < 0.5 s). Building 100k jobs (~1M signed events) into LevelDB takes minutes,
 * so bench/index.ts runs fewer jobs and the table prints the scale.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { EventStore } from '../src/node/store/event-store.js'
import { encodeEvent } from '../src/protocol/encoding.js'
import type { DraftBody, VerifiedEvent } from '../src/protocol/events.js'
import { Replica } from '../src/protocol/replica.js'
import { signerFromKey, type Signer } from '../src/protocol/signing.js'
import { exportOnce } from '../src/report/export.js'
import { storeSource } from '../src/report/source.js'
import { createSqliteSink } from '../src/report/sqlite.js'
import { formatMs, printTable } from './report.js'

/** Blocks per job: a submit and three facts per block make ten events a job. */
const BLOCKS_PER_JOB = 3
const FRAMES_PER_BLOCK = 2
const INCREMENTAL_EVENTS = 1_000
const INGEST_BATCH = 1_000

class FarmWriter {
  private wallTime = 1_700_000_000_000
  private pending: VerifiedEvent[] = []
  constructor (private readonly replica: Replica, private readonly signer: Signer, private readonly store: EventStore) {}

  write (body: DraftBody): VerifiedEvent {
    const verified = this.replica.draft(this.signer, this.wallTime += 1000, body)
    this.replica.commit(verified)
    this.pending.push(verified)
    return verified
  }

  /** One job, every block rendered: 1 + 3 × BLOCKS_PER_JOB events. */
  renderedJob (index: number): void {
    const submitted = this.write({
      type: 'job.submitted',
      job: {
        name: `shot${index}`, project: `project${index % 20}`, user: 'bench', software: 'blender', scenePath: '/scenes/bench.blend', targetPath: '/renders/bench',
        frameStart: 1, frameEnd: BLOCKS_PER_JOB * FRAMES_PER_BLOCK, blockSize: FRAMES_PER_BLOCK, layer: null, camera: null, imageName: null, imageFormat: null,
        commandTemplate: null, priority: 50, classification: 'A', maxRetries: 3, enabled: true
      }
    })
    if (submitted.event.body.type !== 'job.submitted') throw new Error('not a submission')
    const jobId = submitted.event.body.job.id
    for (let block = 0; block < BLOCKS_PER_JOB; block++) {
      const lease = { jobId, block, epoch: 1 }
      this.write({ type: 'block.claimed', ...lease })
      this.write({ type: 'block.started', ...lease })
      this.write({ type: 'block.finished', ...lease, wallMs: 2000, frameMs: Array.from({ length: FRAMES_PER_BLOCK }, () => 1000) })
    }
  }

  async flush (): Promise<void> {
    for (let from = 0; from < this.pending.length; from += INGEST_BATCH) {
      await this.store.ingestBatch(this.pending.slice(from, from + INGEST_BATCH).map((verified) => encodeEvent(verified.event)))
    }
    this.pending = []
  }
}

async function timed (work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

export async function runExportBench (options: { readonly jobs: number }): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-bench-export-'))
  try {
    const artist = signerFromKey(await generateKeyPair('Ed25519'))
    const store = await EventStore.open(path.join(dir, 'store'), signerFromKey(await generateKeyPair('Ed25519')), { authority: { founder: artist.author } })
    const writer = new FarmWriter(new Replica({ authority: { founder: artist.author } }), artist, store)
    const buildMs = await timed(async () => {
      for (let job = 0; job < options.jobs; job++) {
        writer.renderedJob(job)
        if (job % 1_000 === 999) await writer.flush()
      }
      await writer.flush()
    })
    const events = Object.values(store.versionVector()).reduce((sum, seq) => sum + seq, 0)
    const file = path.join(dir, 'report.sqlite')
    const source = storeSource(store)
    const exportTo = async (): Promise<void> => {
      const sink = createSqliteSink(file)
      try {
        await exportOnce(source, sink, Date.now)
      } finally {
        await sink.close()
      }
    }
    const fullMs = await timed(exportTo)
    const newJobs = Math.ceil(INCREMENTAL_EVENTS / (1 + 3 * BLOCKS_PER_JOB))
    for (let job = 0; job < newJobs; job++) writer.renderedJob(options.jobs + job)
    await writer.flush()
    const incrementalMs = await timed(exportTo)
    await store.close()
    printTable(`cr export sqlite (${options.jobs.toLocaleString('en-US')} jobs, ${events.toLocaleString('en-US')} events)`, [
      ['building the store', formatMs(buildMs), 'signing and ingesting, not part of the export'],
      ['full export', formatMs(fullMs), `target < 10 s at 100,000 jobs${options.jobs < 100_000 ? `; this run is ${(options.jobs / 100_000).toFixed(2)}x that scale` : ''}`],
      [`incremental after ${(newJobs * (1 + 3 * BLOCKS_PER_JOB)).toLocaleString('en-US')} events`, formatMs(incrementalMs), 'target < 0.5 s']
    ])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
