/**
 * The reducer. Farm state is kept as records built only from commutative, idempotent
 * writes: sets of facts keyed by their event, so the same set of events gives the same
 * records in any order, with any duplicates. Nothing here decides who may state a fact:
 * every fact is kept with its author, and view.ts counts only those whose author was
 * allowed to state them (authority.ts), which keeps that decision order-independent too
 * (a job's submission may arrive after its edits, a wrangler's grant after its acts).
 *
 * Each event touches at most one record (a job or one of its blocks, a node, or one role
 * fact), which lets the store persist exactly that record in the same write as the event.
 * The one exception is compaction: a job its submitter deleted shrinks to a tombstone, and
 * the records of its blocks go (the event says which, so the store deletes them too).
 */
import type { BlockEventBody, BodyOf, JobChanges, JobSpec, NodeChanges, VerifiedEvent } from './events.js'
import type { FrameRange } from './frames.js'
import { jobIdFor } from './job-id.js'
import { compareStamps, stampKey, stampOf, type Stamp } from './stamp.js'
import type { FailureKind, Role } from './vocabulary.js'

/** A fact about one block, with who wrote it and when. */
export interface BlockFact {
  readonly epoch: number
  readonly stamp: Stamp
  readonly wallTime: number
}

export interface FinishFact extends BlockFact {
  readonly wallMs: number
  /** Each frame's render time, in the block's frame order. */
  readonly frameMs: readonly number[]
}

export interface FailureFact extends BlockFact {
  readonly failure: FailureKind
  readonly message: string
}

export interface ReleaseFact extends BlockFact {
  readonly reason: string
}

/** Sets of facts keyed by `stampKey`, so a fact applied twice is held once. */
export interface BlockRecord {
  claims: Record<string, BlockFact>
  starts: Record<string, BlockFact>
  finishes: Record<string, FinishFact>
  failures: Record<string, FailureFact>
  releases: Record<string, ReleaseFact>
}

/** A person's (or a script's) act on a job: an edit of its fields, a retry (of its failed blocks, or a re-render of frames) or a delete. */
export type SteeringFact =
  | { readonly kind: 'edit', readonly stamp: Stamp, readonly changes: JobChanges }
  | { readonly kind: 'retry', readonly stamp: Stamp, readonly frames?: FrameRange }
  | { readonly kind: 'delete', readonly stamp: Stamp }

/**
 * What is left of a job its submitter deleted: enough to keep it deleted, whatever arrives
 * later and in whatever order. The submitter's delete always counts (no role fact can
 * undo it) and nothing undeletes a job, so its facts can never matter again; the log keeps
 * the events themselves. A wrangler's delete hides a job just as well but compacts nothing:
 * whether it counts rests on role facts, and a revocation stamped before it may still
 * arrive, which would bring the job back with every fact it had.
 */
export interface Tombstone {
  /** Whose later deletes still change something: an earlier one moves `deletedAt`. */
  readonly submitter: string
  /** The earliest of the submitter's deletes, so every peer keeps the same one. */
  readonly deletedAt: Stamp
}

export interface JobRecord {
  readonly id: string
  /** Its submit event; only the event whose feed position gives this id (job-id.ts). Null until it arrives, and once compacted. */
  submission: { readonly spec: JobSpec, readonly stamp: Stamp, readonly wallTime: number } | null
  /** Every act on the job, by anyone: the view counts the submitter's and wranglers'. */
  steering: Record<string, SteeringFact>
  blocks: Record<string, BlockRecord>
  /** Set once the submitter deleted the job: submission, steering and blocks are then empty for good. */
  tombstone?: Tombstone
}

export interface SettingsFact {
  readonly stamp: Stamp
  readonly changes: NodeChanges
}

export interface NodeRecord {
  readonly id: string
  /** Every settings change for this node, by anyone: the view counts the node's own and wranglers'. */
  settings: Record<string, SettingsFact>
}

/** A grant or revocation of a role; counts only from the founder or a wrangler at its stamp. */
export interface RoleFact {
  readonly stamp: Stamp
  readonly peer: string
  readonly role: Role
  readonly granted: boolean
}

export interface FarmRecords {
  jobs: Record<string, JobRecord>
  nodes: Record<string, NodeRecord>
  /** Role facts keyed by `stampKey`. */
  roles: Record<string, RoleFact>
}

/**
 * Which parts of the records an event changed, so a store can persist just those: a
 * job's own fields (`meta`), one of its blocks, or a node. A compaction also names the
 * blocks whose records it `dropped`, for the store to delete.
 */
export type Touched =
  | { readonly kind: 'job', readonly id: string, readonly meta: boolean, readonly block: number | null }
  | { readonly kind: 'job', readonly id: string, readonly meta: true, readonly block: null, readonly dropped: readonly number[] }
  | { readonly kind: 'node', readonly id: string }
  | { readonly kind: 'role', readonly key: string }
  | { readonly kind: 'none' }

export function emptyRecords (): FarmRecords {
  return { jobs: {}, nodes: {}, roles: {} }
}

export function emptyJobRecord (id: string): JobRecord {
  return { id, submission: null, steering: {}, blocks: {} }
}

export function emptyNodeRecord (id: string): NodeRecord {
  return { id, settings: {} }
}

function emptyBlockRecord (): BlockRecord {
  return { claims: {}, starts: {}, finishes: {}, failures: {}, releases: {} }
}

/** Applies one verified event to the records, in place. Returns what it touched. */
export function applyEvent (records: FarmRecords, verified: VerifiedEvent): Touched {
  const { body } = verified.event
  const stamp = stampOf(verified)
  const key = stampKey(stamp)
  switch (body.type) {
    case 'log.recorded':
      return { kind: 'none' }
    case 'node.settings': {
      const node = records.nodes[body.node] ??= emptyNodeRecord(body.node)
      node.settings[key] = { stamp, changes: body.changes }
      return { kind: 'node', id: body.node }
    }
    case 'role.changed':
      records.roles[key] = { stamp, peer: body.peer, role: body.role, granted: body.granted }
      return { kind: 'role', key }
    case 'job.submitted': {
      // Decoding refuses a mismatched id; checked again so that no stored event can ever
      // hold an id its feed position does not give.
      if (body.job.id !== jobIdFor(stamp.author, stamp.seq)) return { kind: 'none' }
      const job = records.jobs[body.job.id] ??= emptyJobRecord(body.job.id)
      if (job.tombstone !== undefined) return { kind: 'none' }
      job.submission ??= { spec: body.job, stamp, wallTime: verified.event.wallTime }
      return compactIfDeleted(job) ?? { kind: 'job', id: body.job.id, meta: true, block: null }
    }
    case 'job.edited':
    case 'job.retried':
    case 'job.deleted': {
      const job = records.jobs[body.jobId] ??= emptyJobRecord(body.jobId)
      if (job.tombstone !== undefined) return earlierDelete(job, job.tombstone, body, stamp)
      job.steering[key] = steeringFact(body, stamp)
      return compactIfDeleted(job) ?? { kind: 'job', id: body.jobId, meta: true, block: null }
    }
    default: {
      const job = records.jobs[body.jobId] ??= emptyJobRecord(body.jobId)
      if (job.tombstone !== undefined) return { kind: 'none' }
      applyBlockEvent(job, body, stamp, verified.event.wallTime)
      return { kind: 'job', id: body.jobId, meta: false, block: body.block }
    }
  }
}

function steeringFact (body: BodyOf<'job.edited' | 'job.retried' | 'job.deleted'>, stamp: Stamp): SteeringFact {
  switch (body.type) {
    case 'job.edited': return { kind: 'edit', stamp, changes: body.changes }
    case 'job.retried': return body.frames === undefined ? { kind: 'retry', stamp } : { kind: 'retry', stamp, frames: body.frames }
    case 'job.deleted': return { kind: 'delete', stamp }
  }
}

/**
 * Shrinks `job` to its tombstone once it holds both its submission and a delete by its
 * submitter, whichever came first. What the tombstone keeps depends on those facts alone,
 * so every peer compacts to the same record whatever else it had seen by then.
 */
function compactIfDeleted (job: JobRecord): Touched | null {
  const submitter = job.submission?.stamp.author
  if (submitter === undefined) return null
  let deletedAt: Stamp | null = null
  for (const fact of Object.values(job.steering)) {
    if (fact.kind !== 'delete' || fact.stamp.author !== submitter) continue
    if (deletedAt === null || compareStamps(fact.stamp, deletedAt) < 0) deletedAt = fact.stamp
  }
  if (deletedAt === null) return null
  const dropped = Object.keys(job.blocks).map(Number)
  job.submission = null
  job.steering = {}
  job.blocks = {}
  job.tombstone = { submitter, deletedAt }
  return { kind: 'job', id: job.id, meta: true, block: null, dropped }
}

/** A compacted job takes one fact only: a delete by its submitter stamped before the one it keeps. */
function earlierDelete (job: JobRecord, tombstone: Tombstone, body: BodyOf<'job.edited' | 'job.retried' | 'job.deleted'>, stamp: Stamp): Touched {
  if (body.type !== 'job.deleted' || stamp.author !== tombstone.submitter || compareStamps(stamp, tombstone.deletedAt) >= 0) return { kind: 'none' }
  job.tombstone = { submitter: tombstone.submitter, deletedAt: stamp }
  return { kind: 'job', id: job.id, meta: true, block: null }
}

function applyBlockEvent (job: JobRecord, body: BlockEventBody, stamp: Stamp, wallTime: number): void {
  const block = job.blocks[String(body.block)] ??= emptyBlockRecord()
  const key = stampKey(stamp)
  const fact: BlockFact = { epoch: body.epoch, stamp, wallTime }
  switch (body.type) {
    case 'block.claimed':
      block.claims[key] = fact
      return
    case 'block.started':
      block.starts[key] = fact
      return
    case 'block.finished':
      block.finishes[key] = { ...fact, wallMs: body.wallMs, frameMs: body.frameMs }
      return
    case 'block.failed':
      block.failures[key] = { ...fact, failure: body.failure, message: body.message }
      return
    case 'block.released':
      block.releases[key] = { ...fact, reason: body.reason }
  }
}

/** Reduces a set of verified events to records from scratch. */
export function reduce (events: Iterable<VerifiedEvent>): FarmRecords {
  const records = emptyRecords()
  for (const verified of events) applyEvent(records, verified)
  return records
}
