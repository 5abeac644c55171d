/**
 * The invariants every run must keep, in every profile, checked from what the recorder saw
 * and the peers' final state:
 * - exclusive: two healthy, connected nodes never run renderers for one block at once for
 *   longer than the claim settle window (CLAIM_SETTLE_MS);
 * - never redone: a block is finished once; no renderer runs a DONE block past the settle
 *   window. A retry re-opens only the blocks that failed (README: "a retry runs the failed
 *   blocks again"), which had never finished, so no retry excuses a DONE block's re-render;
 * - steered: a halted, disabled or deleted job's renders stop within `steerStopBoundMs` and
 *   nothing of it is claimed after, until it is resumed or enabled; a retry renders its
 *   failed blocks again; acts by someone who may not steer the job change nothing;
 * - complete: every block of every enabled job ends DONE or ERROR while an eligible node lives;
 * - converged: connected peers hold one state hash and every event any of them holds;
 * - honest: no holder is declared dead while it was up, running and reachable.
 *
 * Faults excuse only what they must: while a node is crashed or paused, or cut off by a
 * partition, and for `recoveryGraceMs` after, it cannot know what it missed.
 */
import { BUSY_TICK_MS } from '../../src/protocol/agent/agent.js'
import { DEAD_AFTER_SILENCE_MS, HAIL_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS, INDIRECT_HAIL_TIMEOUT_MS } from '../../src/protocol/liveness.js'
import { CLAIM_SETTLE_MS, ineligibility } from '../../src/protocol/scheduling.js'
import type { FarmView } from '../../src/protocol/view.js'
import { VIEW_BATCH_MS } from './node.js'
import type { SimNode } from './node.js'
import type { FaultProfile } from './profiles.js'
import type { Interval, Recorder, SteerRecord } from './recorder.js'

/** The longest two nodes may render one block at once: a claimant learns of a rival claim within the settle window. */
export const OVERLAP_ALLOWANCE_MS = CLAIM_SETTLE_MS

/** Heartbeats a lost push may take to be noticed and pulled when messages can be lost (each try can be lost too). */
const LOSSY_CATCH_UP_TRIES = 8

/** After a node resumes, restarts or a partition heals, how long it may take to learn what it missed. */
export function recoveryGraceMs (profile: FaultProfile): number {
  const { network } = profile
  return 2 * (network.latencyMaxMs + network.spikeMs) + HEARTBEAT_INTERVAL_MS + 2 * BUSY_TICK_MS
}

/**
 * How long a halt, disable or delete may take to stop a healthy connected renderer of its
 * job: the push (a gossip burst may hold it up; arriving out of order, a pull), then one view batch. Where messages can
 * be lost, a lost push is noticed from the author's heartbeats (each names its feed's
 * length, and the gap is pulled), which can be lost too.
 */
export function steerStopBoundMs (profile: FaultProfile): number {
  const { network } = profile
  const push = pushBoundMs(profile) + VIEW_BATCH_MS
  if (network.loss === 0) return push
  return LOSSY_CATCH_UP_TRIES * HEARTBEAT_INTERVAL_MS + BUSY_TICK_MS + 2 * network.latencyMaxMs + push
}

/** The longest a pushed event may take to arrive. Jitter reorders pushes: one that arrives before its predecessor is a gap, pulled in a round trip. */
function pushBoundMs (profile: FaultProfile): number {
  return 3 * profile.network.latencyMaxMs + profile.network.spikeMs
}

function covered (span: Interval, excuses: Interval[]): number {
  const clipped = excuses
    .map((excuse) => ({ startMs: Math.max(span.startMs, excuse.startMs), endMs: Math.min(span.endMs, excuse.endMs) }))
    .filter((excuse) => excuse.endMs > excuse.startMs)
    .sort((a, b) => a.startMs - b.startMs)
  let total = 0
  let reach = span.startMs
  for (const excuse of clipped) {
    const from = Math.max(reach, excuse.startMs)
    if (excuse.endMs > from) total += excuse.endMs - from
    reach = Math.max(reach, excuse.endMs)
  }
  return total
}

/**
 * Time within `span` not excused by `a` or `b` being unhealthy, or a partition between them
 * (each with `graceMs` after). `inFlightMs`: a partition also excuses that much before it,
 * when what one side wrote just before the cut was still on its way to the other.
 */
function unexcusedMs (recorder: Recorder, span: Interval, a: string, b: string, graceMs: number, inFlightMs = 0): number {
  if (span.endMs <= span.startMs) return 0
  const periods = [...recorder.unhealthy.get(a) ?? [], ...recorder.unhealthy.get(b) ?? []]
  const cuts = recorder.partitions.filter((cut) => cut.island.has(a) !== cut.island.has(b)).map((cut) => ({ startMs: cut.startMs - inFlightMs, endMs: cut.endMs }))
  const excuses = [...periods, ...cuts].map((period) => ({ startMs: period.startMs, endMs: period.endMs + graceMs }))
  return span.endMs - span.startMs - covered(span, excuses)
}

function blockKeyOf (target: { readonly jobId: string, readonly block: number }): string {
  return `${target.jobId}/${target.block}`
}

function groupBy<T> (items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const group = groups.get(key(item))
    if (group === undefined) groups.set(key(item), [item])
    else group.push(item)
  }
  return groups
}

export interface OverlapReport {
  /** Overlaps between healthy connected nodes (each within the allowance, or a violation). */
  readonly overlaps: number
  readonly longestMs: number
  readonly violations: string[]
}

export function checkExclusive (recorder: Recorder, profile: FaultProfile, label: (node: string) => string): OverlapReport {
  const graceMs = recoveryGraceMs(profile)
  const violations: string[] = []
  let overlaps = 0
  let longestMs = 0
  for (const [key, spans] of groupBy(recorder.spans, (span) => blockKeyOf(span.target))) {
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const a = spans[i]
        const b = spans[j]
        if (a === undefined || b === undefined || a.node === b.node) continue
        const overlap = { startMs: Math.max(a.startMs, b.startMs), endMs: Math.min(a.endMs, b.endMs) }
        const unexcused = unexcusedMs(recorder, overlap, a.node, b.node, graceMs)
        if (unexcused <= 0) continue
        overlaps++
        longestMs = Math.max(longestMs, unexcused)
        if (unexcused > OVERLAP_ALLOWANCE_MS) {
          violations.push(`exclusive: ${label(a.node)} (epoch ${a.target.epoch}) and ${label(b.node)} (epoch ${b.target.epoch}) both rendered block ${key} for ${unexcused} ms from ${overlap.startMs} ms while healthy and connected (allowed ${OVERLAP_ALLOWANCE_MS} ms)`)
        }
      }
    }
  }
  return { overlaps, longestMs, violations }
}

/**
 * Work done twice: a second finish of a block (at any epoch), unless its two finishers were
 * cut off from each other all the while from the first finish to the second (or from the
 * first finish's push still on its way when the cut came); and any
 * render of a block after it finished, beyond the settle window, by a node that could know.
 */
export function checkRedone (recorder: Recorder, profile: FaultProfile, label: (node: string) => string): string[] {
  const graceMs = recoveryGraceMs(profile)
  const violations: string[] = []
  const spansByBlock = groupBy(recorder.spans, (span) => blockKeyOf(span.target))
  for (const [key, finishes] of groupBy(recorder.finishes, (finish) => blockKeyOf(finish.target))) {
    const [first, ...later] = [...finishes].sort((a, b) => a.atMs - b.atMs)
    if (first === undefined) continue
    for (const again of later) {
      const cutOff = again.node !== first.node && unexcusedMs(recorder, { startMs: first.atMs, endMs: again.atMs }, first.node, again.node, graceMs, pushBoundMs(profile)) <= 0
      if (cutOff) continue
      violations.push(`redone: block ${key} finished again by ${label(again.node)} (epoch ${again.target.epoch}) at ${again.atMs} ms after ${label(first.node)} finished it (epoch ${first.target.epoch}) at ${first.atMs} ms`)
    }
    for (const span of spansByBlock.get(key) ?? []) {
      const afterDone = { startMs: Math.max(span.startMs, first.atMs), endMs: span.endMs }
      const unexcused = unexcusedMs(recorder, afterDone, span.node, first.node, graceMs)
      if (unexcused > OVERLAP_ALLOWANCE_MS) {
        violations.push(`redone: ${label(span.node)} rendered block ${key} (epoch ${span.target.epoch}) for ${unexcused} ms after ${label(first.node)} finished it at ${first.atMs} ms (allowed ${OVERLAP_ALLOWANCE_MS} ms)`)
      }
    }
  }
  return violations
}

type Steer<K extends SteerRecord['kind']> = Extract<SteerRecord, { kind: K }>

/** When each job was steered off (halted, disabled, deleted) by someone allowed to, until it was steered on again. */
function offIntervals (acts: readonly SteerRecord[]): { readonly act: SteerRecord, readonly startMs: number, readonly endMs: number }[] {
  const ends: Partial<Record<SteerRecord['kind'], SteerRecord['kind']>> = { halt: 'resume', disable: 'enable' }
  const intervals: { act: SteerRecord, startMs: number, endMs: number }[] = []
  const authorized = acts.filter((act) => act.authorized)
  for (const act of authorized) {
    if (act.kind !== 'halt' && act.kind !== 'disable' && act.kind !== 'delete') continue
    const end = authorized.find((other) => other.kind === ends[act.kind] && other.jobId === act.jobId && other.atMs >= act.atMs)
    intervals.push({ act, startMs: act.atMs, endMs: end?.atMs ?? Number.POSITIVE_INFINITY })
  }
  return intervals
}

/** From each halt, disable or delete made while its job rendered to the moment the last of those renders stopped. */
export function steerStopLatencies (recorder: Recorder): number[] {
  return offIntervals(recorder.steering).flatMap(({ act, endMs }) => {
    const running = recorder.spans.filter((span) => span.target.jobId === act.jobId && span.startMs <= act.atMs && span.endMs > act.atMs)
    return running.length === 0 ? [] : [Math.max(...running.map((span) => Math.min(span.endMs, endMs))) - act.atMs]
  })
}

/** The steering invariants: see the module header. `finalView`: a connected peer's view at the end. */
export function checkSteering (recorder: Recorder, profile: FaultProfile, finalView: FarmView, label: (node: string) => string): string[] {
  const graceMs = recoveryGraceMs(profile)
  const boundMs = steerStopBoundMs(profile)
  const violations: string[] = []
  const short = (jobId: string): string => jobId.slice(0, 8)
  for (const { act, startMs, endMs } of offIntervals(recorder.steering)) {
    const from = startMs + boundMs
    for (const span of recorder.spans.filter((candidate) => candidate.target.jobId === act.jobId)) {
      const unexcused = unexcusedMs(recorder, { startMs: Math.max(span.startMs, from), endMs: Math.min(span.endMs, endMs) }, span.node, act.author, graceMs)
      if (unexcused > 0) violations.push(`steered: ${label(span.node)} rendered block ${blockKeyOf(span.target)} of job ${short(act.jobId)} for ${unexcused} ms past ${from} ms, ${boundMs} ms after ${label(act.author)}'s ${act.kind} at ${startMs} ms`)
    }
    for (const claim of recorder.claims.filter((candidate) => candidate.target.jobId === act.jobId && candidate.atMs >= from && candidate.atMs < endMs)) {
      if (unexcusedMs(recorder, { startMs: from, endMs: claim.atMs }, claim.node, act.author, graceMs) > 0) {
        violations.push(`steered: ${label(claim.node)} claimed block ${claim.target.block} of job ${short(act.jobId)} at ${claim.atMs} ms after ${label(act.author)}'s ${act.kind} at ${startMs} ms`)
      }
    }
  }
  for (const act of recorder.steering) {
    if (!act.authorized) violations.push(...unauthorizedEffects(recorder, act, finalView, label))
    else if (act.kind === 'retry') violations.push(...retryRenders(recorder, act))
    else if (act.kind === 'priority') violations.push(...priorityKept(recorder, act, finalView))
  }
  return violations
}

/** An act by someone who may not steer the job: the job renders on, and the final view shows no trace of the act. */
function unauthorizedEffects (recorder: Recorder, act: SteerRecord, finalView: FarmView, label: (node: string) => string): string[] {
  const job = finalView.jobs.find((candidate) => candidate.id === act.jobId)
  const who = `${label(act.author)}, who may not steer job ${act.jobId.slice(0, 8)},`
  if (act.kind === 'delete') return job === undefined ? [`steered: ${who} deleted it`] : []
  if (act.kind !== 'halt') throw new RangeError(`the simulator attempts only halts and deletes without authority, not a ${act.kind}`)
  const stopped = recorder.stops.filter((stop) => stop.target.jobId === act.jobId && stop.reason === 'the job was halted')
  return [
    ...(job?.halted === true ? [`steered: ${who} halted it`] : []),
    ...stopped.map((stop) => `steered: ${who} halted it: ${label(stop.node)} stopped block ${stop.target.block} at ${stop.atMs} ms`)
  ]
}

/** A retry renders again every block its author saw failed, each at least once, unless the job is deleted after (a second finish is `checkRedone`'s). */
function retryRenders (recorder: Recorder, act: Steer<'retry'>): string[] {
  if (recorder.steering.some((other) => other.kind === 'delete' && other.authorized && other.jobId === act.jobId && other.atMs >= act.atMs)) return []
  return act.failed
    .filter((block) => !recorder.spans.some((span) => span.target.jobId === act.jobId && span.target.block === block && span.startMs >= act.atMs))
    .map((block) => `steered: block ${block} of job ${act.jobId.slice(0, 8)} failed and was retried at ${act.atMs} ms, but never rendered again`)
}

function priorityKept (recorder: Recorder, act: Steer<'priority'>, finalView: FarmView): string[] {
  const latest = recorder.steering.findLast((other): other is Steer<'priority'> => other.kind === 'priority' && other.authorized && other.jobId === act.jobId)
  const job = finalView.jobs.find((candidate) => candidate.id === act.jobId)
  if (latest !== act || job === undefined || job.priority === act.priority) return []
  return [`steered: job ${act.jobId.slice(0, 8)} was given priority ${act.priority} at ${act.atMs} ms, but the final view says ${job.priority}`]
}

/** Blocks not ended while some live node could still take them. */
export function checkComplete (view: FarmView, live: readonly string[]): string[] {
  const violations: string[] = []
  for (const job of view.jobs) {
    if (!job.enabled || job.halted) continue
    const open = job.blocks.filter((block) => block.status !== 'DONE' && block.status !== 'ERROR')
    if (open.length === 0) continue
    const eligible = view.nodes.filter((node) => live.includes(node.id) && ineligibility({ node, mayRender: true, leases: 0 }, job) === null)
    if (eligible.length > 0) violations.push(`complete: job ${job.shortId} has ${open.length} unfinished blocks (${open.map((block) => `${block.index}:${block.status}`).join(' ')}) with ${eligible.length} eligible nodes alive`)
  }
  return violations
}

export function checkConverged (nodes: readonly SimNode[]): string[] {
  const up = nodes.filter((node) => node.status === 'up')
  const hashes = new Set(up.map((node) => node.replica.stateHash()))
  const violations: string[] = []
  if (hashes.size > 1) violations.push(`converged: ${up.length} connected peers hold ${hashes.size} different state hashes`)
  const union: Record<string, number> = {}
  for (const node of up) {
    for (const [author, seq] of Object.entries(node.replica.versionVector())) union[author] = Math.max(union[author] ?? 0, seq)
  }
  for (const node of up) {
    const vector = node.replica.versionVector()
    const missing = Object.entries(union).filter(([author, seq]) => (vector[author] ?? 0) < seq)
    if (missing.length > 0) violations.push(`no record lost: node ${node.index} lacks ${missing.map(([author, seq]) => `${author.slice(-6)} up to #${seq}`).join(', ')}`)
  }
  return violations
}

/** How long before its verdict a judge hails a holder: the direct hail, then the indirect one, each ending on a tick. */
const HAIL_WINDOW_MS = HAIL_TIMEOUT_MS + INDIRECT_HAIL_TIMEOUT_MS + 2 * BUSY_TICK_MS

/**
 * A dead verdict on a holder that was up, running and connected to its judge for the whole
 * silence and hail, and reachable: a heartbeat or hail answer of its got through to the
 * judge while the judge hailed it. (Where all of those were lost, the verdict is honest:
 * the judge heard nothing that says the holder lives.)
 */
export function falseDeaths (recorder: Recorder, label: (node: string) => string): string[] {
  const window = DEAD_AFTER_SILENCE_MS + HEARTBEAT_INTERVAL_MS
  return recorder.declares
    .filter(({ by, peer, atMs, lastHeardMs }) => {
      const span = { startMs: atMs - window, endMs: atMs }
      return unexcusedMs(recorder, span, by, peer, 0) === window && lastHeardMs >= atMs - HAIL_WINDOW_MS
    })
    .map(({ by, peer, atMs }) => `honest: ${label(by)} declared ${label(peer)} dead at ${atMs} ms though it was up, connected, and heard alive in the ${HAIL_WINDOW_MS} ms before`)
}
