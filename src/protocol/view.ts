/**
 * The farm as people see it, derived from the records: the seed's job and client tables
 * with their statuses, block by block, and the render times (Average Render Time).
 * Pure and deterministic: equal records give an equal view.
 */
import type { JobSpec } from './events.js'
import { blockCount, blockFrames, frameCount } from './frames.js'
import type { BlockRecord, FailureFact, FarmRecords, FinishFact, JobRecord, NodeRecord } from './records.js'
import { blockKey, rankPeers } from './rendezvous.js'
import type { Schedule } from './schedule.js'
import { compareStamps, type Register, type Stamp } from './stamp.js'
import {
  CLASSIFICATIONS, UNLIMITED,
  type BlockStatus, type Classification, type ClientStatus, type FailureKind, type JobStatus
} from './vocabulary.js'

/** Who holds a block, under which lease epoch. */
export interface Lease {
  readonly holder: string
  readonly epoch: number
}

export interface LastFailure {
  readonly node: string
  readonly epoch: number
  readonly failure: FailureKind
  readonly message: string
}

export interface BlockView {
  readonly index: number
  readonly frameStart: number
  readonly frameEnd: number
  readonly status: BlockStatus
  /** The highest epoch claimed so far (0: never claimed); the next claim uses epoch + 1. */
  readonly epoch: number
  /** The live lease while CLAIMED or RENDERING. */
  readonly lease: Lease | null
  /** Failures that count against the retry limit (since the last retry). */
  readonly attempts: number
  readonly lastFailure: LastFailure | null
  readonly finishedBy: string | null
  readonly wallMs: number | null
  readonly frameTimes: readonly { readonly frame: number, readonly ms: number }[]
}

export interface RenderTime {
  /** Sum of finished blocks' wall time. */
  readonly totalMs: number
  readonly frames: number
  /** totalMs / frames, or null before the first finished frame. */
  readonly averageFrameMs: number | null
}

export interface JobView extends JobSpec {
  /** The first 8 hex digits of the id: enough for people to type. */
  readonly shortId: string
  readonly status: JobStatus
  readonly halted: boolean
  readonly registeredAt: number
  readonly submittedBy: string
  readonly blocks: readonly BlockView[]
  readonly framesTotal: number
  readonly framesDone: number
  readonly renderTime: RenderTime
  /** The latest fatal failure's message, for the ERROR status. */
  readonly error: string | null
  /** Counting failures per node, so a node that keeps failing a job can avoid it. */
  readonly failuresByNode: Readonly<Record<string, number>>
}

export interface NodeView {
  readonly id: string
  readonly name: string
  readonly blocked: boolean
  readonly memoryLimitMb: number
  readonly threadLimit: number
  readonly workMemoryLimitMb: number
  readonly workThreadLimit: number
  readonly classifications: readonly Classification[]
  readonly schedule: Schedule
  /** Leases it holds now. */
  readonly holding: readonly ({ readonly jobId: string, readonly block: number } & Lease)[]
  /** Whether its latest block outcome was a failure. */
  readonly lastOutcomeFailed: boolean
  readonly renderTime: RenderTime
}

export interface FarmView {
  /** Jobs in scheduling order: priority (high first), then registered time, then id. */
  readonly jobs: readonly JobView[]
  /** Nodes by name, then id. */
  readonly nodes: readonly NodeView[]
}

function valueOr<T> (register: Register<T> | null, fallback: T): T {
  return register === null ? fallback : register.value
}

function factsOf<T> (facts: Record<string, T>): T[] {
  return Object.values(facts)
}

function byStamp<T extends { readonly stamp: Stamp }> (a: T, b: T): number {
  return compareStamps(a.stamp, b.stamp)
}

/** Among claims at the top epoch, the fixed rule: the highest rendezvous rank wins. */
function leaseOf (jobId: string, index: number, block: BlockRecord): Lease | null {
  const claims = factsOf(block.claims)
  if (claims.length === 0) return null
  const epoch = Math.max(...claims.map((claim) => claim.epoch))
  const claimants = claims.filter((claim) => claim.epoch === epoch).map((claim) => claim.stamp.author)
  // One claimant (by far the usual case) needs no ranking, which would hash it.
  const [holder] = claimants.length === 1 ? claimants : rankPeers(blockKey(jobId, index, epoch), claimants)
  return holder === undefined ? null : { holder, epoch }
}

function endedBy (lease: Lease, block: BlockRecord): boolean {
  const ends = [...factsOf(block.releases), ...factsOf(block.failures)]
  return ends.some((fact) => fact.epoch === lease.epoch && fact.stamp.author === lease.holder)
}

function countingFailures (job: JobRecord, block: BlockRecord): FailureFact[] {
  const retried = job.retried
  return factsOf(block.failures)
    .filter((failure) => retried === null || compareStamps(failure.stamp, retried) > 0)
    .sort(byStamp)
}

function deriveBlock (job: JobRecord, spec: JobSpec, maxRetries: number, index: number): BlockView {
  const frames = blockFrames(spec, index) ?? { start: spec.frameStart, end: spec.frameStart }
  const block = job.blocks[String(index)]
  const base = { index, frameStart: frames.start, frameEnd: frames.end }
  if (block === undefined) {
    return { ...base, status: 'QUEUE', epoch: 0, lease: null, attempts: 0, lastFailure: null, finishedBy: null, wallMs: null, frameTimes: [] }
  }
  const failures = countingFailures(job, block)
  const last = failures.at(-1)
  const lastFailure = last === undefined
    ? null
    : { node: last.stamp.author, epoch: last.epoch, failure: last.failure, message: last.message }
  const attempts = new Set(failures.map((failure) => failure.epoch)).size
  const claimed = leaseOf(job.id, index, block)
  const epoch = claimed?.epoch ?? 0
  const [finish] = factsOf(block.finishes).sort(byStamp)
  const common = { ...base, epoch, attempts, lastFailure }
  if (finish !== undefined) {
    return { ...common, status: 'DONE', lease: null, finishedBy: finish.stamp.author, wallMs: finish.wallMs, frameTimes: finish.frames }
  }
  const exhausted = failures.some((failure) => failure.failure === 'fatal') || attempts > maxRetries
  const idle = { ...common, lease: null, finishedBy: null, wallMs: null, frameTimes: [] }
  if (exhausted) return { ...idle, status: 'ERROR' }
  if (claimed === null || endedBy(claimed, block)) return { ...idle, status: 'QUEUE' }
  const started = factsOf(block.starts).some((fact) => fact.epoch === claimed.epoch && fact.stamp.author === claimed.holder)
  return { ...idle, status: started ? 'RENDERING' : 'CLAIMED', lease: claimed }
}

function jobStatusOf (blocks: readonly BlockView[], halted: boolean): JobStatus {
  if (blocks.every((block) => block.status === 'DONE')) return 'DONE'
  if (blocks.some((block) => block.status === 'ERROR')) return 'ERROR'
  if (halted) return 'HALT'
  if (blocks.some((block) => block.lease !== null)) return 'RENDERING'
  return 'QUEUE'
}

function renderTimeOf (finishes: readonly Pick<FinishFact, 'wallMs' | 'frames'>[]): RenderTime {
  const totalMs = finishes.reduce((sum, finish) => sum + finish.wallMs, 0)
  const frames = finishes.reduce((sum, finish) => sum + finish.frames.length, 0)
  return { totalMs, frames, averageFrameMs: frames === 0 ? null : totalMs / frames }
}

function deriveJob (job: JobRecord): JobView | null {
  if (job.submission === null || job.deleted !== null) return null
  const { spec } = job.submission
  const maxRetries = valueOr(job.maxRetries, spec.maxRetries)
  const halted = valueOr(job.halted, false)
  const blocks = Array.from({ length: blockCount(spec) }, (_, index) => deriveBlock(job, spec, maxRetries, index))
  const finished = blocks.filter((block) => block.wallMs !== null)
  const fatal = Object.values(job.blocks).flatMap((block) => countingFailures(job, block))
    .filter((failure) => failure.failure === 'fatal').sort(byStamp).at(-1)
  const failuresByNode: Record<string, number> = {}
  for (const block of Object.values(job.blocks)) {
    for (const failure of countingFailures(job, block)) {
      failuresByNode[failure.stamp.author] = (failuresByNode[failure.stamp.author] ?? 0) + 1
    }
  }
  return {
    ...spec,
    shortId: spec.id.replaceAll('-', '').slice(0, 8),
    priority: valueOr(job.priority, spec.priority),
    classification: valueOr(job.classification, spec.classification),
    maxRetries,
    enabled: valueOr(job.enabled, spec.enabled),
    halted,
    status: jobStatusOf(blocks, halted),
    registeredAt: job.submission.wallTime,
    submittedBy: job.submission.stamp.author,
    blocks,
    framesTotal: frameCount(spec),
    framesDone: finished.reduce((sum, block) => sum + block.frameEnd - block.frameStart + 1, 0),
    renderTime: renderTimeOf(finished.map((block) => ({ wallMs: block.wallMs ?? 0, frames: block.frameTimes }))),
    error: fatal?.message ?? null,
    failuresByNode
  }
}

/** Scheduling order: priority (high first), then registered time, then id. */
export function compareJobs (a: JobView, b: JobView): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  if (a.registeredAt !== b.registeredAt) return a.registeredAt - b.registeredAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

interface NodeActivity {
  holding: NodeView['holding'][number][]
  outcomes: { stamp: Stamp, failed: boolean }[]
  finishes: FinishFact[]
}

function activityByNode (jobs: readonly JobView[], records: FarmRecords): Map<string, NodeActivity> {
  const activity = new Map<string, NodeActivity>()
  const of = (node: string): NodeActivity => {
    let entry = activity.get(node)
    if (entry === undefined) activity.set(node, entry = { holding: [], outcomes: [], finishes: [] })
    return entry
  }
  for (const job of jobs) {
    for (const block of job.blocks) {
      if (block.lease !== null) of(block.lease.holder).holding.push({ jobId: job.id, block: block.index, ...block.lease })
    }
    for (const block of Object.values(records.jobs[job.id]?.blocks ?? {})) {
      // Every node that ever claimed appears in the client table, holding or not.
      for (const claim of factsOf(block.claims)) of(claim.stamp.author)
      for (const finish of factsOf(block.finishes)) {
        of(finish.stamp.author).finishes.push(finish)
        of(finish.stamp.author).outcomes.push({ stamp: finish.stamp, failed: false })
      }
      for (const failure of factsOf(block.failures)) of(failure.stamp.author).outcomes.push({ stamp: failure.stamp, failed: true })
    }
  }
  return activity
}

function deriveNode (id: string, record: NodeRecord | undefined, activity: NodeActivity | undefined): NodeView {
  const latest = activity?.outcomes.sort(byStamp).at(-1)
  const finishes = activity?.finishes ?? []
  return {
    id,
    name: valueOr(record?.name ?? null, id.slice(-8)),
    blocked: valueOr(record?.blocked ?? null, false),
    memoryLimitMb: valueOr(record?.memoryLimitMb ?? null, UNLIMITED),
    threadLimit: valueOr(record?.threadLimit ?? null, UNLIMITED),
    workMemoryLimitMb: valueOr(record?.workMemoryLimitMb ?? null, UNLIMITED),
    workThreadLimit: valueOr(record?.workThreadLimit ?? null, UNLIMITED),
    classifications: valueOr<readonly Classification[]>(record?.classifications ?? null, CLASSIFICATIONS),
    schedule: valueOr(record?.schedule ?? null, []),
    holding: activity?.holding ?? [],
    lastOutcomeFailed: latest?.failed ?? false,
    renderTime: renderTimeOf(finishes)
  }
}

/** The whole farm view. */
export function deriveView (records: FarmRecords): FarmView {
  const jobs = Object.values(records.jobs)
    .map(deriveJob)
    .filter((job): job is JobView => job !== null)
    .sort(compareJobs)
  const activity = activityByNode(jobs, records)
  const nodeIds = new Set([...Object.keys(records.nodes), ...activity.keys()])
  const nodes = [...nodeIds]
    .map((id) => deriveNode(id, records.nodes[id], activity.get(id)))
    .sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1))
  return { jobs, nodes }
}

/** The seed's clientStatus, joining the log's view with liveness (which the log does not hold). */
export function clientStatus (node: NodeView, live: boolean): ClientStatus {
  if (!live) return 'OFFLINE'
  if (node.holding.length > 0) return 'RENDERING'
  return node.lastOutcomeFailed ? 'ERROR' : 'STANDBY'
}
