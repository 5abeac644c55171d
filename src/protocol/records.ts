/**
 * The reducer. Farm state is kept as records built only from commutative, idempotent
 * writes (last-writer-wins registers, earliest/latest stamps, sets of facts keyed by
 * their event), so the same set of events gives the same records in any order, with any
 * duplicates. Statuses are not stored here: view.ts derives them from the records.
 *
 * Each event touches at most one record (a job or a node), which lets the store persist
 * exactly that record in the same write as the event.
 */
import type { BlockEventBody, BodyOf, EventBody, JobSpec, VerifiedEvent } from './events.js'
import type { Schedule } from './schedule.js'
import { compareStamps, earliest, latest, stampKey, stampOf, writeRegister, type Register, type Stamp } from './stamp.js'
import type { Classification, FailureKind } from './vocabulary.js'

/** A fact about one block, with who wrote it and when. */
export interface BlockFact {
  readonly epoch: number
  readonly stamp: Stamp
  readonly wallTime: number
}

export interface FinishFact extends BlockFact {
  readonly wallMs: number
  readonly frames: readonly { readonly frame: number, readonly ms: number }[]
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

export interface JobRecord {
  readonly id: string
  /** The earliest submission of this id wins; a later duplicate id is ignored. */
  submission: { readonly spec: JobSpec, readonly stamp: Stamp, readonly wallTime: number } | null
  priority: Register<number> | null
  classification: Register<Classification> | null
  maxRetries: Register<number> | null
  /** Written by edits, by fatal failures (false) and by retries (true). */
  enabled: Register<boolean> | null
  halted: Register<boolean> | null
  /** Failures stamped before the latest retry no longer count. */
  retried: Stamp | null
  deleted: Stamp | null
  blocks: Record<string, BlockRecord>
}

export interface NodeRecord {
  readonly id: string
  name: Register<string> | null
  blocked: Register<boolean> | null
  memoryLimitMb: Register<number> | null
  threadLimit: Register<number> | null
  workMemoryLimitMb: Register<number> | null
  workThreadLimit: Register<number> | null
  classifications: Register<readonly Classification[]> | null
  schedule: Register<Schedule> | null
}

export interface FarmRecords {
  jobs: Record<string, JobRecord>
  nodes: Record<string, NodeRecord>
}

/**
 * Which parts of the records an event changed, so a store can persist just those: a
 * job's own fields (`meta`), one of its blocks, or a node.
 */
export type Touched =
  | { readonly kind: 'job', readonly id: string, readonly meta: boolean, readonly block: number | null }
  | { readonly kind: 'node', readonly id: string }
  | { readonly kind: 'none' }

export function emptyRecords (): FarmRecords {
  return { jobs: {}, nodes: {} }
}

export function emptyJobRecord (id: string): JobRecord {
  return {
    id,
    submission: null,
    priority: null,
    classification: null,
    maxRetries: null,
    enabled: null,
    halted: null,
    retried: null,
    deleted: null,
    blocks: {}
  }
}

export function emptyNodeRecord (id: string): NodeRecord {
  return {
    id,
    name: null,
    blocked: null,
    memoryLimitMb: null,
    threadLimit: null,
    workMemoryLimitMb: null,
    workThreadLimit: null,
    classifications: null,
    schedule: null
  }
}

function emptyBlockRecord (): BlockRecord {
  return { claims: {}, starts: {}, finishes: {}, failures: {}, releases: {} }
}

/** Applies one verified event to the records, in place. Returns what it touched. */
export function applyEvent (records: FarmRecords, verified: VerifiedEvent): Touched {
  const { body } = verified.event
  const stamp = stampOf(verified)
  if (body.type === 'log.recorded') return { kind: 'none' }
  if (body.type === 'node.settings') {
    const node = records.nodes[body.node] ??= emptyNodeRecord(body.node)
    applyNodeChanges(node, body.changes, stamp)
    return { kind: 'node', id: body.node }
  }
  const jobId = body.type === 'job.submitted' ? body.job.id : body.jobId
  const job = records.jobs[jobId] ??= emptyJobRecord(jobId)
  if (isBlockEvent(body)) {
    const meta = applyBlockEvent(job, body, stamp, verified.event.wallTime)
    return { kind: 'job', id: jobId, meta, block: body.block }
  }
  applyJobEvent(job, body, stamp, verified.event.wallTime)
  return { kind: 'job', id: jobId, meta: true, block: null }
}

function isBlockEvent (body: EventBody): body is BlockEventBody {
  return body.type.startsWith('block.')
}

function applyNodeChanges (node: NodeRecord, changes: BodyOf<'node.settings'>['changes'], stamp: Stamp): void {
  if (changes.name !== undefined) node.name = writeRegister(node.name, changes.name, stamp)
  if (changes.blocked !== undefined) node.blocked = writeRegister(node.blocked, changes.blocked, stamp)
  if (changes.memoryLimitMb !== undefined) node.memoryLimitMb = writeRegister(node.memoryLimitMb, changes.memoryLimitMb, stamp)
  if (changes.threadLimit !== undefined) node.threadLimit = writeRegister(node.threadLimit, changes.threadLimit, stamp)
  if (changes.workMemoryLimitMb !== undefined) node.workMemoryLimitMb = writeRegister(node.workMemoryLimitMb, changes.workMemoryLimitMb, stamp)
  if (changes.workThreadLimit !== undefined) node.workThreadLimit = writeRegister(node.workThreadLimit, changes.workThreadLimit, stamp)
  if (changes.classifications !== undefined) {
    const sorted = [...changes.classifications].sort()
    node.classifications = writeRegister(node.classifications, sorted, stamp)
  }
  if (changes.schedule !== undefined) node.schedule = writeRegister(node.schedule, changes.schedule, stamp)
}

type JobEventBody = BodyOf<'job.submitted' | 'job.edited' | 'job.retried' | 'job.deleted'>

function applyJobEvent (job: JobRecord, body: JobEventBody, stamp: Stamp, wallTime: number): void {
  switch (body.type) {
    case 'job.submitted':
      if (job.submission === null || compareStamps(stamp, job.submission.stamp) < 0) {
        job.submission = { spec: body.job, stamp, wallTime }
      }
      return
    case 'job.edited': {
      const { changes } = body
      if (changes.priority !== undefined) job.priority = writeRegister(job.priority, changes.priority, stamp)
      if (changes.classification !== undefined) job.classification = writeRegister(job.classification, changes.classification, stamp)
      if (changes.maxRetries !== undefined) job.maxRetries = writeRegister(job.maxRetries, changes.maxRetries, stamp)
      if (changes.enabled !== undefined) job.enabled = writeRegister(job.enabled, changes.enabled, stamp)
      if (changes.halted !== undefined) job.halted = writeRegister(job.halted, changes.halted, stamp)
      return
    }
    case 'job.retried':
      job.retried = latest(job.retried, stamp)
      job.enabled = writeRegister(job.enabled, true, stamp)
      return
    case 'job.deleted':
      job.deleted = earliest(job.deleted, stamp)
  }
}

/** Applies a block fact; returns whether the job's own fields changed too. */
function applyBlockEvent (job: JobRecord, body: BlockEventBody, stamp: Stamp, wallTime: number): boolean {
  const block = job.blocks[String(body.block)] ??= emptyBlockRecord()
  const key = stampKey(stamp)
  const fact: BlockFact = { epoch: body.epoch, stamp, wallTime }
  switch (body.type) {
    case 'block.claimed':
      block.claims[key] = fact
      return false
    case 'block.started':
      block.starts[key] = fact
      return false
    case 'block.finished':
      block.finishes[key] = { ...fact, wallMs: body.wallMs, frames: body.frames }
      return false
    case 'block.failed':
      block.failures[key] = { ...fact, failure: body.failure, message: body.message }
      if (body.failure === 'retryable') return false
      // Error Return: a fatal failure disables the job, as a write a later enable can undo.
      job.enabled = writeRegister(job.enabled, false, stamp)
      return true
    case 'block.released':
      block.releases[key] = { ...fact, reason: body.reason }
      return false
  }
}

/** Reduces a set of verified events to records from scratch. */
export function reduce (events: Iterable<VerifiedEvent>): FarmRecords {
  const records = emptyRecords()
  for (const verified of events) applyEvent(records, verified)
  return records
}
