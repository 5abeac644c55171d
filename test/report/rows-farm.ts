/**
 * A small real farm for the report tests: an artist (the founder) and two render nodes
 * writing signed events, stored in a real LevelDB EventStore. Its jobs cover what a
 * report must show: done, failed (fatal), halted, deleted by its submitter, and one
 * finished on a retry by another node after a retryable failure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ExecutionContext } from 'ava'
import { Level } from 'level'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { writeSwarmKey } from '../../src/node/mesh/swarm-key.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { encodeEvent } from '../../src/protocol/encoding.js'
import type { JobSpec } from '../../src/protocol/events.js'
import type { ReportChange, TableRows } from '../../src/report/sink.js'
import { signerFromKey, type Signer } from '../../src/protocol/signing.js'
import { makeSigners, World } from '../helpers/farm-events.js'

export const ARTIST = 0
export const NODE_A = 1
export const NODE_B = 2
/** The peer whose store the exports read: it writes nothing. */
const EXPORTER = 3

export interface ReportFarm {
  readonly world: World
  /** The identity of the store the exports read. */
  readonly exporter: Signer
  readonly jobs: { readonly done: JobSpec, readonly failed: JobSpec, readonly halted: JobSpec, readonly deleted: JobSpec, readonly retried: JobSpec }
}

export function render (world: World, node: number, job: JobSpec, block: number, epoch: number, frameMs: readonly number[]): void {
  world.write(node, { type: 'block.claimed', jobId: job.id, block, epoch })
  world.write(node, { type: 'block.started', jobId: job.id, block, epoch })
  world.write(node, { type: 'block.finished', jobId: job.id, block, epoch, wallMs: frameMs.reduce((a, b) => a + b, 0), frameMs: [...frameMs] })
}

function fail (world: World, node: number, job: JobSpec, block: number, epoch: number, failure: 'fatal' | 'retryable'): void {
  world.write(node, { type: 'block.claimed', jobId: job.id, block, epoch })
  world.write(node, { type: 'block.started', jobId: job.id, block, epoch })
  world.write(node, { type: 'block.failed', jobId: job.id, block, epoch, failure, message: `it's broken: "${failure}"`, outputTail: ['line one', 'a \\ backslash'] })
}

export async function reportFarm (): Promise<ReportFarm> {
  const signers = await makeSigners(4)
  const world = new World(signers.slice(0, EXPORTER), { founder: signers[ARTIST]?.author ?? null })
  const exporter = signers[EXPORTER]
  if (exporter === undefined) throw new RangeError('no exporter signer')
  world.write(NODE_A, { type: 'node.settings', node: world.author(NODE_A), changes: { name: 'render-a' } })
  world.write(NODE_B, { type: 'node.settings', node: world.author(NODE_B), changes: { name: 'render-b' } })
  // Four frames in blocks of two: two blocks each.
  const frames = { frameStart: 1, frameEnd: 4, blockSize: 2 }
  const done = world.submit(ARTIST, { ...frames, name: 'shot010', project: 'feature' })
  const failed = world.submit(ARTIST, { ...frames, name: 'shot020', project: 'feature' })
  const halted = world.submit(ARTIST, { ...frames, name: 'shot030', project: 'commercial' })
  const deleted = world.submit(ARTIST, { ...frames, name: "o'brien", project: 'commercial' })
  const retried = world.submit(ARTIST, { ...frames, name: 'shot050', project: 'feature' })
  render(world, NODE_A, done, 0, 1, [1000, 3000])
  render(world, NODE_B, done, 1, 1, [2000, 2000])
  fail(world, NODE_A, failed, 0, 1, 'fatal')
  world.write(ARTIST, { type: 'job.edited', jobId: halted.id, changes: { halted: true } })
  render(world, NODE_B, deleted, 0, 1, [500, 500])
  world.write(ARTIST, { type: 'job.deleted', jobId: deleted.id })
  fail(world, NODE_A, retried, 0, 1, 'retryable')
  render(world, NODE_B, retried, 0, 2, [4000, 6000])
  render(world, NODE_A, retried, 1, 1, [1500, 2500])
  return { world, exporter, jobs: { done, failed, halted, deleted, retried } }
}

export async function tempDir (t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-report-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A real LevelDB store holding the world's first `count` events (all by default). */
export async function storeOf ({ world, exporter }: ReportFarm, location: string, count = world.events.length): Promise<EventStore> {
  const store = await EventStore.open(location, exporter, { authority: { founder: world.author(ARTIST) } })
  await ingest(store, world, 0, count)
  return store
}

/** Takes events [from, to) of the world into the store. */
export async function ingest (store: EventStore, world: World, from: number, to = world.events.length): Promise<void> {
  for (const verified of world.events.slice(from, to)) await store.ingest(encodeEvent(verified.event))
}

/** A stopped node's data directory (identity, swarm key, store) holding the farm. */
export async function nodeDir (t: ExecutionContext): Promise<{ dir: string, farm: ReportFarm }> {
  const dir = await tempDir(t)
  const farm = await reportFarm()
  const founder = farm.world.author(ARTIST)
  await writeSwarmKey(path.join(dir, 'swarm.key'), { founder })
  const store = await EventStore.open(storeDirOf(dir), signerFromKey(await loadOrCreateIdentity(dir)), { authority: { founder } })
  await ingest(store, farm.world, 0)
  await store.close()
  return { dir, farm }
}

/** A change's row batches, read once into a list (sinks read them as they write). */
export async function batchesOf (change: ReportChange): Promise<TableRows[]> {
  const batches: TableRows[] = []
  for await (const batch of change.upserts) batches.push(batch)
  return batches
}

/**
 * Changes one letter of `node`'s first stored event (its node name) in the closed store at
 * `location`: still well-formed CBOR of the same kind of event, so only the chain tells.
 */
export async function damageFirstEvent ({ world }: ReportFarm, location: string, node: number): Promise<void> {
  const db = new Level<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' })
  try {
    const events = db.sublevel<string, Uint8Array>('events', { keyEncoding: 'utf8', valueEncoding: 'view' })
    const key = `${world.author(node)}!${String(1).padStart(16, '0')}`
    const bytes = await events.get(key)
    if (bytes === undefined) throw new Error(`no stored event ${key}`)
    const changed = new Uint8Array(bytes)
    const at = Buffer.from(changed).indexOf('render-')
    if (at < 0) throw new Error(`the first event of ${key} names no node`)
    changed[at] = 'R'.charCodeAt(0)
    await events.put(key, changed)
  } finally {
    await db.close()
  }
}
