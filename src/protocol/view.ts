/**
 * The farm as people see it, derived from the records: the seed's job and client tables
 * with their statuses, block by block, and the render times (Average Render Time). Only
 * facts whose author was allowed to state them count (authority.ts): a job's steering
 * from its submitter or a wrangler, a node's settings from itself or a wrangler, a
 * block's facts from the holder of the lease at their epoch.
 *
 * This module derives one block, one job or one node at a time; farm-view.ts assembles
 * the whole view incrementally from them. Pure and deterministic: equal records give an
 * equal view.
 */
import type { Roles } from './authority.js'
import type { JobChanges, JobSpec, NodeChanges } from './events.js'
import { blockFrames, frameCount, type FrameRange } from './frames.js'
import type { JobTotals } from './job-totals.js'
import type { NodeActivitySummary } from './node-activity.js'
import type { BlockFact, BlockRecord, FailureFact, FinishFact, JobRecord, NodeRecord } from './records.js'
import { blockKey, rankPeers } from './rendezvous.js'
import type { Schedule } from './schedule.js'
import { compareStamps, type Stamp } from './stamp.js'
import {
  CLASSIFICATIONS, SOFTWARE, UNLIMITED,
  type BlockStatus, type Classification, type ClientStatus, type FailureKind, type JobStatus, type Software
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

/** A failure and the block it happened on: what a job's or a node's status reason quotes. */
export interface BlockFailure extends LastFailure {
  readonly jobId: string
  readonly block: number
}

export interface BlockView {
  readonly index: number
  readonly frameStart: number
  readonly frameEnd: number
  readonly status: BlockStatus
  /** The highest epoch validly claimed so far (0: never claimed); the next claim uses epoch + 1. */
  readonly epoch: number
  /** The live lease while CLAIMED or RENDERING. */
  readonly lease: Lease | null
  /**
   * While RENDERING: when the holder started it under the live lease, by the holder's
   * clock (ms since the epoch), so people can see how long it has run; null otherwise.
   */
  readonly startedAt: number | null
  /** Who holds (or last held) the lease at `epoch`: the only peer whose facts at that epoch count. */
  readonly holder: string | null
  /** Failures that count against the retry limit (since the last retry). */
  readonly attempts: number
  /**
   * A retry of its job came after one of its failures: its next render was asked for, and
   * may replace frames an earlier attempt left at the target.
   */
  readonly retryAsked: boolean
  readonly lastFailure: BlockFailure | null
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
  /**
   * Why the job is ERROR, in words (null otherwise): the fatal failure's message (Error
   * Return), a block out of retries, or no node left that could run it (stranded.ts).
   */
  readonly error: string | null
  /** Counting failures per node, so a node that keeps failing a job can avoid it. */
  readonly failuresByNode: Readonly<Record<string, number>>
  /** Its latest counting failure on any block (since the last retry), or null. */
  readonly lastFailure: BlockFailure | null
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
  /** What the node's own config lets it run (it alone says so). */
  readonly software: readonly Software[]
  /** Leases it holds now. */
  readonly holding: readonly ({ readonly jobId: string, readonly block: number } & Lease)[]
  /** Whether its latest block outcome since it last started was a failure: its ERROR status. */
  readonly lastOutcomeFailed: boolean
  /** That failure, while `lastOutcomeFailed`: the reason for its ERROR status. */
  readonly lastFailure: BlockFailure | null
  /** While `blocked`: who blocked it (the author of the counting setting). */
  readonly blockedBy: string | null
  readonly renderTime: RenderTime
}

export interface FarmView {
  /** Jobs in scheduling order: priority (high first), then registered time, then id. */
  readonly jobs: readonly JobView[]
  /** Nodes by name, then id. */
  readonly nodes: readonly NodeView[]
  /** The farm's founder, and every wrangler now (the founder first). */
  readonly founder: string | null
  readonly wranglers: readonly string[]
}

/** Until a node says what it accepts: everything but `command`, which runs any program. */
export const DEFAULT_ACCEPTED_SOFTWARE: readonly Software[] = SOFTWARE.filter((software) => software !== 'command')

function factsOf<T> (facts: Record<string, T>): T[] {
  return Object.values(facts)
}

function byStamp<T extends { readonly stamp: Stamp }> (a: T, b: T): number {
  return compareStamps(a.stamp, b.stamp)
}

/** A value with the stamp of the fact that set it: the latest counting fact wins. */
interface Latest<T> {
  readonly value: T
  readonly stamp: Stamp
}

function later<T> (current: Latest<T> | null, value: T, stamp: Stamp): Latest<T> {
  return current !== null && compareStamps(current.stamp, stamp) >= 0 ? current : { value, stamp }
}

/** A job's steering, as its submitter and wranglers left it. */
export interface Steering {
  readonly fields: { readonly [K in keyof JobChanges]-?: Latest<NonNullable<JobChanges[K]>> | null }
  /** The latest retry of the whole job: failures before it do not count. */
  readonly retried: Stamp | null
  /** Re-renders of frame ranges: a block holding any of them renders again after each, done or not. */
  readonly rerenders: readonly Rerender[]
  readonly deleted: boolean
}

export interface Rerender extends FrameRange {
  readonly stamp: Stamp
}

/** Counts the acts on a job by its submitter and by wranglers; ignores everyone else's. */
export function steeringOf (job: JobRecord, roles: Roles): Steering {
  const submitter = job.submission?.stamp.author
  const fields: { -readonly [K in keyof JobChanges]-?: Latest<NonNullable<JobChanges[K]>> | null } = {
    priority: null, classification: null, maxRetries: null, enabled: null, halted: null
  }
  let retried: Stamp | null = null
  const rerenders: Rerender[] = []
  let deleted = false
  for (const fact of factsOf(job.steering)) {
    const { stamp } = fact
    if (stamp.author !== submitter && !roles.isWranglerAt(stamp.author, stamp)) continue
    if (fact.kind === 'delete') deleted = true
    if (fact.kind === 'retry') {
      if (fact.frames !== undefined) rerenders.push({ stamp, ...fact.frames })
      else if (retried === null || compareStamps(stamp, retried) > 0) retried = stamp
      fields.enabled = later(fields.enabled, true, stamp)
    }
    if (fact.kind !== 'edit') continue
    const { changes } = fact
    if (changes.priority !== undefined) fields.priority = later(fields.priority, changes.priority, stamp)
    if (changes.classification !== undefined) fields.classification = later(fields.classification, changes.classification, stamp)
    if (changes.maxRetries !== undefined) fields.maxRetries = later(fields.maxRetries, changes.maxRetries, stamp)
    if (changes.enabled !== undefined) fields.enabled = later(fields.enabled, changes.enabled, stamp)
    if (changes.halted !== undefined) fields.halted = later(fields.halted, changes.halted, stamp)
  }
  return { fields, retried, rerenders, deleted }
}

/**
 * The block's lease holders, epoch by epoch. Epoch e counts only once epoch e - 1 does
 * (a claim is at most one past the current epoch), so a claim at a far epoch can neither
 * take a lease nor make takeover impossible. Among the claims of one epoch, the fixed
 * rule picks the holder: the highest rendezvous rank wins.
 */
/** A block's established epochs, from 1 with none missing: each epoch's claimants and its holder. */
interface Epochs {
  /** Index e - 1: the holder of epoch e, the top-ranked of its claimants. */
  readonly holders: readonly string[]
  /** Index e - 1: every peer that claimed epoch e. */
  readonly claimants: readonly (readonly string[])[]
}

function epochsOf (jobId: string, index: number, block: BlockRecord): Epochs {
  const byEpoch = new Map<number, string[]>()
  for (const claim of factsOf(block.claims)) {
    const claimants = byEpoch.get(claim.epoch)
    if (claimants === undefined) byEpoch.set(claim.epoch, [claim.stamp.author])
    else claimants.push(claim.stamp.author)
  }
  const holders: string[] = []
  const claimants: string[][] = []
  for (let epoch = 1; ; epoch++) {
    const those = byEpoch.get(epoch)
    if (those === undefined) return { holders, claimants }
    // One claimant (by far the usual case) needs no ranking, which would hash it.
    const [holder] = those.length === 1 ? those : rankPeers(blockKey(jobId, index, epoch), those)
    if (holder !== undefined) holders.push(holder)
    claimants.push(those)
  }
}

/**
 * A block's facts that count: those its lease holder at their epoch stated, and any
 * claimant's finish at its epoch. A collision loser that rendered before it learned it
 * lost delivered whole frames all the same (the copy to the target never overwrites), so
 * its finish is work done: letting the winner's rank undo it would render the block again.
 */
interface HeldFacts {
  readonly starts: BlockFact[]
  readonly finishes: FinishFact[]
  readonly failures: FailureFact[]
  readonly releases: BlockFact[]
}

function heldFacts (block: BlockRecord, epochs: Epochs, frames: number): HeldFacts {
  const byHolder = (fact: BlockFact): boolean => epochs.holders[fact.epoch - 1] === fact.stamp.author
  const byClaimant = (fact: BlockFact): boolean => epochs.claimants[fact.epoch - 1]?.includes(fact.stamp.author) === true
  return {
    starts: factsOf(block.starts).filter(byHolder),
    finishes: factsOf(block.finishes).filter((finish) => byClaimant(finish) && finish.frameMs.length === frames).sort(byStamp),
    failures: factsOf(block.failures).filter(byHolder).sort(byStamp),
    releases: factsOf(block.releases).filter(byHolder)
  }
}

/** One block's view, and what it tells about its job and the nodes that worked on it. */
export interface DerivedBlock {
  readonly view: BlockView
  /** Its counting failures, oldest first. */
  readonly failures: readonly FailureFact[]
  /** Its latest fatal failure from its holder, retried or not: Error Return disables the job. */
  readonly latestFatal: FailureFact | null
  readonly finish: FinishFact | null
  /** Every node that claimed it (they appear in the client table). */
  readonly claimants: readonly string[]
  /** Its holders' outcomes: finished or failed. */
  readonly outcomes: readonly BlockOutcome[]
}

/** What became of one holder's attempt at a block: a finish, or the failure it reported. */
export type BlockOutcome =
  | { readonly stamp: Stamp, readonly failed: false }
  | { readonly stamp: Stamp, readonly failed: true, readonly failure: BlockFailure }

function failureOf (jobId: string, block: number, fact: FailureFact): BlockFailure {
  return { jobId, block, node: fact.stamp.author, epoch: fact.epoch, failure: fact.failure, message: fact.message }
}

const NO_FRAMES: BlockView['frameTimes'] = []
/** What a block nobody claimed yet tells: nothing, shared by all of them (a job may have 50,000). */
const UNTOUCHED: Omit<DerivedBlock, 'view'> = { failures: [], latestFatal: null, finish: null, claimants: [], outcomes: [] }

/** The latest re-render asked of any of `frames`, or null. */
function rerenderedAt (rerenders: readonly Rerender[], frames: FrameRange): Stamp | null {
  let latest: Stamp | null = null
  for (const rerender of rerenders) {
    if (rerender.start > frames.end || rerender.end < frames.start) continue
    if (latest === null || compareStamps(rerender.stamp, latest) > 0) latest = rerender.stamp
  }
  return latest
}

/** Facts stamped after `stamp` (all of them when it is null): those a retry or re-render left counting. */
function after (stamp: Stamp | null): (fact: { readonly stamp: Stamp }) => boolean {
  return (fact) => stamp === null || compareStamps(fact.stamp, stamp) > 0
}

/** Facts stamped before `stamp` (none when it is null): those a retry or re-render set aside. */
function before (stamp: Stamp | null): (fact: { readonly stamp: Stamp }) => boolean {
  return (fact) => stamp !== null && compareStamps(fact.stamp, stamp) < 0
}

export function deriveBlock (job: JobRecord, spec: JobSpec, maxRetries: number, steering: Pick<Steering, 'retried' | 'rerenders'>, index: number): DerivedBlock {
  const frames = blockFrames(spec, index) ?? { start: spec.frameStart, end: spec.frameStart }
  const block = job.blocks[String(index)]
  const base = { index, frameStart: frames.start, frameEnd: frames.end }
  if (block === undefined) {
    const view: BlockView = { ...base, status: 'QUEUE', epoch: 0, lease: null, startedAt: null, holder: null, attempts: 0, retryAsked: false, lastFailure: null, finishedBy: null, wallMs: null, frameTimes: NO_FRAMES }
    return { view, ...UNTOUCHED }
  }
  const epochs = epochsOf(job.id, index, block)
  const { holders } = epochs
  const held = heldFacts(block, epochs, frames.end - frames.start + 1)
  const { retried } = steering
  // A re-render sets the block back: its finishes before it are undone, its attempts start afresh.
  const rerendered = rerenderedAt(steering.rerenders, frames)
  const reset = retried === null || (rerendered !== null && compareStamps(rerendered, retried) > 0) ? rerendered : retried
  const failures = held.failures.filter(after(reset))
  const last = failures.at(-1)
  const lastFailure = last === undefined ? null : failureOf(job.id, index, last)
  const attempts = new Set(failures.map((failure) => failure.epoch)).size
  const retryAsked = held.failures.some(before(reset)) || held.finishes.some(before(rerendered))
  const epoch = holders.length
  const holder = holders.at(-1)
  const [finish] = held.finishes.filter(after(rerendered))
  const derived = {
    failures,
    latestFatal: held.failures.filter((failure) => failure.failure === 'fatal').at(-1) ?? null,
    finish: finish ?? null,
    claimants: [...new Set(factsOf(block.claims).map((claim) => claim.stamp.author))],
    outcomes: [
      ...held.finishes.map((fact): BlockOutcome => ({ stamp: fact.stamp, failed: false })),
      ...held.failures.map((fact): BlockOutcome => ({ stamp: fact.stamp, failed: true, failure: failureOf(job.id, index, fact) }))
    ]
  }
  const common = { ...base, epoch, holder: holder ?? null, attempts, retryAsked, lastFailure }
  if (finish !== undefined) {
    const frameTimes = finish.frameMs.map((ms, offset) => ({ frame: frames.start + offset, ms }))
    return { ...derived, view: { ...common, status: 'DONE', lease: null, startedAt: null, finishedBy: finish.stamp.author, wallMs: finish.wallMs, frameTimes } }
  }
  const exhausted = failures.some((failure) => failure.failure === 'fatal') || attempts > maxRetries
  const idle = { ...common, lease: null, startedAt: null, finishedBy: null, wallMs: null, frameTimes: NO_FRAMES }
  if (exhausted) return { ...derived, view: { ...idle, status: 'ERROR' } }
  // A finish ends its epoch's lease too, even one a re-render undid.
  const ended = [...held.releases, ...held.failures, ...held.finishes].some((fact) => fact.epoch === epoch)
  if (holder === undefined || ended) return { ...derived, view: { ...idle, status: 'QUEUE' } }
  const lease = { holder, epoch }
  const start = held.starts.filter((fact) => fact.epoch === epoch).sort(byStamp)[0]
  return { ...derived, view: { ...idle, status: start === undefined ? 'CLAIMED' : 'RENDERING', lease, startedAt: start?.wallTime ?? null } }
}

/** What one job tells about one node: for the client table. */
export interface NodeActivity {
  readonly holding: readonly NodeView['holding'][number][]
  readonly latest: BlockOutcome | null
  readonly totalMs: number
  readonly frames: number
}

/** A job's view (null while unknown or deleted) and its nodes' activity. */
export interface DerivedJob {
  readonly view: JobView | null
  readonly activity: ReadonlyMap<string, NodeActivity>
}

function renderTimeOf (totalMs: number, frames: number): RenderTime {
  return { totalMs, frames, averageFrameMs: frames === 0 ? null : totalMs / frames }
}

const NO_ACTIVITY: DerivedJob['activity'] = new Map()

/**
 * Assembles a job from its steering, its blocks' views and their running totals (which
 * the caller keeps between calls: a block fact changes one block, not the others).
 */
export function assembleJob (job: JobRecord, steering: Steering, blocks: readonly BlockView[], totals: JobTotals): DerivedJob {
  if (job.submission === null || steering.deleted) return { view: null, activity: NO_ACTIVITY }
  const { spec } = job.submission
  const activity = new Map<string, NodeActivity>()
  for (const [node, share] of totals.nodes) {
    const holding = [...share.holding].map(([block, lease]) => ({ jobId: spec.id, block, ...lease }))
    activity.set(node, { holding, latest: share.latest(), totalMs: share.totalMs, frames: share.frames })
  }
  const { disabling, counting } = totals.fatal()
  // Error Return: a fatal failure disables the job, as a write a later enable or retry undoes.
  const enabled = disabling === null ? steering.fields.enabled : later(steering.fields.enabled, false, disabling.stamp)
  const halted = steering.fields.halted?.value ?? false
  const status: JobStatus = totals.done === blocks.length ? 'DONE' : totals.errors > 0 ? 'ERROR' : halted ? 'HALT' : totals.leased > 0 ? 'RENDERING' : 'QUEUE'
  const view: JobView = {
    ...spec,
    shortId: spec.id.replaceAll('-', '').slice(0, 8),
    priority: steering.fields.priority?.value ?? spec.priority,
    classification: steering.fields.classification?.value ?? spec.classification,
    maxRetries: steering.fields.maxRetries?.value ?? spec.maxRetries,
    enabled: enabled?.value ?? spec.enabled,
    halted,
    status,
    registeredAt: job.submission.wallTime,
    submittedBy: job.submission.stamp.author,
    blocks,
    framesTotal: frameCount(spec),
    framesDone: totals.framesDone,
    renderTime: renderTimeOf(totals.totalMs, totals.framesTimed),
    error: status !== 'ERROR' ? null : counting?.message ?? null,
    failuresByNode: Object.fromEntries(totals.failuresByNode),
    lastFailure: totals.latestFailure()
  }
  return { view, activity }
}

/** Scheduling order: priority (high first), then registered time, then id. */
export function compareJobs (a: JobView, b: JobView): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  if (a.registeredAt !== b.registeredAt) return a.registeredAt - b.registeredAt
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

type SettingsValues = { -readonly [K in keyof NodeChanges]-?: Latest<NonNullable<NodeChanges[K]>> | null }

/** A node's settings as the node itself and wranglers left them; `software` from the node alone. */
function settingsOf (id: string, record: NodeRecord | undefined, roles: Roles): SettingsValues {
  const values: SettingsValues = {
    name: null, blocked: null, removed: null, memoryLimitMb: null, threadLimit: null, workMemoryLimitMb: null,
    workThreadLimit: null, classifications: null, schedule: null, software: null
  }
  for (const { stamp, changes } of factsOf(record?.settings ?? {})) {
    const own = stamp.author === id
    if (!own && !roles.isWranglerAt(stamp.author, stamp)) continue
    for (const [field, value] of Object.entries(changes) as [keyof NodeChanges, NonNullable<NodeChanges[keyof NodeChanges]>][]) {
      if (field === 'software' && !own) continue
      const current = values[field] as Latest<unknown> | null
      ;(values as Record<string, Latest<unknown> | null>)[field] = later(current, value, stamp)
    }
  }
  return values
}

/**
 * One node's row of the client table, from its settings and its activity across jobs;
 * null for a peer of which nothing counts (say, settings from someone not allowed to set
 * them), so that nobody can add rows for machines that never took part, and for a node
 * taken out of the table (`cr node remove`) that holds nothing.
 */
export function deriveNode (id: string, record: NodeRecord | undefined, activity: NodeActivitySummary, roles: Roles): NodeView | null {
  const settings = settingsOf(id, record, roles)
  if (activity.jobs === 0 && Object.values(settings).every((value) => value === null)) return null
  const { latest } = activity
  // Every start of a node restates what it runs (render-node.ts): a failure before its
  // latest start is history, not its state now.
  const started = settings.software?.stamp
  const failedNow = latest?.failed === true && (started === undefined || compareStamps(latest.stamp, started) > 0) ? latest.failure : null
  const blocked = settings.blocked?.value ?? false
  const holding = [...activity.holding]
  // A node taken out of the table stays while it holds a lease, so that its block is hailed and taken over.
  if (settings.removed?.value === true && holding.length === 0) return null
  // Jobs come in whatever order their records were made: put the leases in one order for all.
  holding.sort((a, b) => (a.jobId === b.jobId ? a.block - b.block : a.jobId < b.jobId ? -1 : 1))
  return {
    id,
    name: settings.name?.value ?? id.slice(-8),
    blocked,
    memoryLimitMb: settings.memoryLimitMb?.value ?? UNLIMITED,
    threadLimit: settings.threadLimit?.value ?? UNLIMITED,
    workMemoryLimitMb: settings.workMemoryLimitMb?.value ?? UNLIMITED,
    workThreadLimit: settings.workThreadLimit?.value ?? UNLIMITED,
    classifications: settings.classifications === null ? CLASSIFICATIONS : [...settings.classifications.value].sort(),
    schedule: settings.schedule?.value ?? [],
    software: settings.software?.value ?? DEFAULT_ACCEPTED_SOFTWARE,
    holding,
    lastOutcomeFailed: failedNow !== null,
    lastFailure: failedNow,
    blockedBy: blocked ? settings.blocked?.stamp.author ?? null : null,
    renderTime: renderTimeOf(activity.totalMs, activity.frames)
  }
}

/** The seed's clientStatus, joining the log's view with liveness (which the log does not hold). */
export function clientStatus (node: NodeView, live: boolean): ClientStatus {
  if (!live) return 'OFFLINE'
  if (node.holding.length > 0) return 'RENDERING'
  return node.lastOutcomeFailed ? 'ERROR' : 'STANDBY'
}
