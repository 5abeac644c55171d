/**
 * The log's own speed: signing and appending local events, verifying and applying remote
 * ones, and how long a node takes to be ready after a restart with a large log on disk:
 * 100,000 events always, 1,000,000 (issue 14's target: < 3 s) with `--restart-1m`, since
 * signing and storing a million events first takes minutes here.
 * Figures are medians over runs; the machine is shared and noisy.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { encodeEvent } from '../src/protocol/encoding.js'
import type { DraftBody } from '../src/protocol/events.js'
import { jobIdFor } from '../src/protocol/job-id.js'
import { Replica } from '../src/protocol/replica.js'
import { signerFromKey, verifyEvent, type Signer } from '../src/protocol/signing.js'
import { decodeEvent } from '../src/protocol/encoding.js'
import { Level } from 'level'
import { EventStore } from '../src/node/store/event-store.js'
import { formatMs, formatRate, median, printTables, type Row } from './report.js'
import type { BenchReport, FigureId, Figures } from './results.js'

const BLOCKS_PER_JOB = 100
const INGEST_BATCH = 2_000

/** A farm's typical traffic, all by `author`: a job, then claim, start and finish for each of its blocks. */
function * farmBodies (author: string, count: number): Generator<DraftBody> {
  let written = 0
  for (let jobIndex = 0; written < count; jobIndex++) {
    const jobId = jobIdFor(author, written + 1)
    yield {
      type: 'job.submitted',
      job: {
        name: `shot${jobIndex}`, project: 'bench', user: 'bench', software: 'blender',
        scenePath: '/scenes/bench.blend', targetPath: '/renders/bench', frameStart: 1, frameEnd: BLOCKS_PER_JOB * 4,
        blockSize: 4, layer: null, camera: null, imageName: null, imageFormat: null, commandTemplate: null,
        priority: 50, classification: 'A', maxRetries: 3, enabled: true
      }
    }
    written++
    for (let block = 0; block < BLOCKS_PER_JOB && written < count; block++) {
      const lease = { jobId, block, epoch: 1 }
      yield { type: 'block.claimed', ...lease }
      yield { type: 'block.started', ...lease }
      yield { type: 'block.finished', ...lease, wallMs: 4000, frameMs: [1000, 1000, 1000, 1000] }
      written += 3
    }
  }
}

/** Signs `count` events of one author in memory, as wire bytes: a farm's typical traffic. */
export function signFeed (signer: Signer, count: number): Uint8Array[] {
  const replica = new Replica()
  const wire: Uint8Array[] = []
  let now = 1_700_000_000_000
  for (const body of farmBodies(signer.author, count)) {
    const verified = replica.draft(signer, now++, body)
    replica.commit(verified)
    wire.push(encodeEvent(verified.event))
  }
  return wire
}

async function withTempDir<T> (use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-bench-'))
  try {
    return await use(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function newSigner (): Promise<Signer> {
  return signerFromKey(await generateKeyPair('Ed25519'))
}

async function appendRate (events: number): Promise<number> {
  const signer = await newSigner()
  return withTempDir(async (dir) => {
    const store = await EventStore.open(dir, signer)
    const started = performance.now()
    let now = 0
    for (const body of farmBodies(signer.author, events)) await store.append(body, now++)
    const seconds = (performance.now() - started) / 1000
    await store.close()
    return events / seconds
  })
}

async function ingestRate (wire: readonly Uint8Array[]): Promise<number> {
  const signer = await newSigner()
  return withTempDir(async (dir) => {
    const store = await EventStore.open(dir, signer)
    const started = performance.now()
    for (let index = 0; index < wire.length; index += INGEST_BATCH) {
      await store.ingestBatch(wire.slice(index, index + INGEST_BATCH))
    }
    const seconds = (performance.now() - started) / 1000
    await store.close()
    return wire.length / seconds
  })
}

function verifyApplyInMemoryRate (wire: readonly Uint8Array[]): number {
  const replica = new Replica()
  const started = performance.now()
  for (const bytes of wire) replica.commit(verifyEvent(decodeEvent(bytes)))
  return wire.length / ((performance.now() - started) / 1000)
}

/** Drops the store's checkpoint and commit marks, so its next open verifies every chain. */
async function forgetCheckpoint (dir: string): Promise<void> {
  const raw = new Level<string, Uint8Array>(dir, { valueEncoding: 'view' })
  await raw.sublevel<string, Uint8Array>('integrity', { valueEncoding: 'view' }).batch([{ type: 'del', key: 'checkpoint' }, { type: 'del', key: 'commit' }])
  await raw.close()
}

interface RestartTimes {
  /** Opened on the checkpoint a clean close wrote: one event verified per feed. */
  readonly checkpointed: number[]
  /** Opened with every feed's chain verified from seq 1 (no checkpoint). */
  readonly fullyVerified: number[]
}

/** Fills a store with `events` events, then times reopen-until-ready, `runs` times each way. */
async function restartTimes (events: number, runs: number): Promise<RestartTimes> {
  const author = await newSigner()
  const reader = await newSigner()
  return withTempDir(async (dir) => {
    const store = await EventStore.open(dir, reader)
    const replica = new Replica()
    let now = 1_700_000_000_000
    let batch: Uint8Array[] = []
    for (const body of farmBodies(author.author, events)) {
      const verified = replica.draft(author, now++, body)
      replica.commit(verified)
      batch.push(encodeEvent(verified.event))
      if (batch.length === INGEST_BATCH) {
        await store.ingestBatch(batch)
        batch = []
      }
    }
    await store.ingestBatch(batch)
    const expected = store.stateHash()
    await store.close()
    const timed = async (): Promise<number> => {
      const started = performance.now()
      const reopened = await EventStore.open(dir, reader)
      const ms = performance.now() - started
      if (reopened.stateHash() !== expected) throw new Error('restart gave a different state')
      await reopened.close()
      return ms
    }
    const checkpointed: number[] = []
    const fullyVerified: number[] = []
    for (let run = 0; run < runs; run++) {
      checkpointed.push(await timed())
      await forgetCheckpoint(dir)
      fullyVerified.push(await timed())
    }
    return { checkpointed, fullyVerified }
  })
}

/** Restarts timed, by events stored, with the summary figure each gives. */
const RESTART_100K: { readonly events: number, readonly id: FigureId } = { events: 100_000, id: 'spine.restart100kMs' }
const RESTART_1M: { readonly events: number, readonly id: FigureId } = { events: 1_000_000, id: 'spine.restart1mMs' }

export async function runSpineBench (options: { readonly restart1m?: boolean } = {}): Promise<BenchReport> {
  const runs = 3
  const signer = await newSigner()
  const wire = signFeed(signer, 20_000)
  const signStarted = performance.now()
  signFeed(signer, 20_000)
  const signRate = 20_000 / ((performance.now() - signStarted) / 1000)
  const appendRates: number[] = []
  const ingestRates: number[] = []
  const memoryRates: number[] = []
  for (let run = 0; run < runs; run++) {
    appendRates.push(await appendRate(5_000))
    ingestRates.push(await ingestRate(wire))
    memoryRates.push(verifyApplyInMemoryRate(wire))
  }
  const rows: Row[] = [
    ['events signed (in memory)', formatRate(signRate)],
    ['events signed + appended, one write each', formatRate(median(appendRates)), `median of ${runs}`],
    ['events verified + applied (memory only)', formatRate(median(memoryRates)), `median of ${runs}`],
    ['events verified + applied + stored (batches)', formatRate(median(ingestRates)), `median of ${runs}, batches of ${INGEST_BATCH}`]
  ]
  let figures: Figures = {}
  for (const { events, id } of options.restart1m === true ? [RESTART_100K, RESTART_1M] : [RESTART_100K]) {
    const times = await restartTimes(events, runs)
    const stored = `${events.toLocaleString('en-US')} events stored`
    const note = `median of ${runs}, opened on the checkpoint`
    rows.push([`ready after restart, ${stored}`, formatMs(median(times.checkpointed)), note])
    rows.push([`ready after restart, ${stored}, every chain verified`, formatMs(median(times.fullyVerified)), `median of ${runs}, as a store without a checkpoint opens`])
    figures = { ...figures, [id]: { value: median(times.checkpointed), note: `${note}; every chain verified: ${formatMs(median(times.fullyVerified))}` } }
  }
  return { tables: [{ title: 'Spine: signed replicated event log (LevelDB)', rows }], figures }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { tables } = await runSpineBench({ restart1m: process.argv.includes('--restart-1m') })
  printTables(tables)
}
