/**
 * No master: which block each idle node takes, decided by every node alone from the same
 * view. Runnable blocks are listed in the farm's order (job priority, registered time,
 * id; then block index) and handed out greedily, each to its top rendezvous-ranked free
 * candidate: idle nodes first, then busy ones with room for another claim (a node claims
 * its next block while it renders, so the settle window overlaps with work). A node
 * claims the block it is handed at once; for a block handed to someone else it is only a
 * backup, and claims after a delay that grows with its rank, should the first choice stay
 * silent. A block whose holder is declared dead is runnable again at the next epoch: that
 * is takeover. Where views differ and two claims still collide, the lease rule in view.ts
 * picks one winner and the other withdraws in the settle window.
 */
import { blockKey, rankPeers } from './rendezvous.js'
import type { BlockView, FarmView, JobView, NodeView } from './view.js'

/** A node that failed this many blocks of a job stops taking that job. */
export const FAILURES_BEFORE_AVOIDING_JOB = 2
/** Extra wait per rank for a backup claimant: long enough for the first choice's claim to spread. */
export const CLAIM_STAGGER_MS = 250
/**
 * A node handed a block waits a random moment up to this before claiming it, so nodes that
 * fell idle together decide on views that have caught up with each other's last events:
 * equal views hand out distinct blocks, stale ones collide.
 */
export const CLAIM_JITTER_MS = 200
/** After claiming, a node waits this long for colliding claims before starting its renderer. */
export const CLAIM_SETTLE_MS = 300
/**
 * The most leases a node holds at once: the block it renders and the claims queued behind
 * it. Bounds what a node takes from others while blocks are short, and what is hailed and
 * taken over should it die.
 */
export const MAX_HELD_LEASES = 8

/** Why a node may not take a job now. */
export type Ineligibility =
  | 'node-blocked'
  | 'not-rendering-now'
  | 'job-disabled'
  | 'job-halted'
  | 'job-finished'
  | 'class-not-accepted'
  | 'software-not-accepted'
  | 'failed-here-before'

/** A node as the scheduler sees it: its settings, and what its heartbeats say. */
export interface Candidate {
  readonly node: NodeView
  /** Its own schedule lets it render now (it reports this in its heartbeat). */
  readonly mayRender: boolean
  /** Leases it holds now (claimed, settling or rendering); 0: it is idle. */
  readonly leases: number
}

export interface BlockRef {
  readonly jobId: string
  readonly block: number
  /** The epoch a claim must carry: one past the highest claimed. */
  readonly epoch: number
}

/** What a node should do now. */
export type ClaimDecision =
  /**
   * Claim `target` after `delayMs`. `contested`: a live eligible node outranks this one for
   * the block, so a view that has not caught up with it could collide: wait a random moment
   * (CLAIM_JITTER_MS) first. The top-ranked node claims at once, since any collision on the
   * block goes its way.
   */
  | { readonly kind: 'claim', readonly target: BlockRef, readonly delayMs: number, readonly contested: boolean }
  | { readonly kind: 'idle' }

/** Null when `candidate` may take blocks of `job`, else the first reason it may not. */
export function ineligibility (candidate: Candidate, job: JobView): Ineligibility | null {
  if (candidate.node.blocked) return 'node-blocked'
  if (!candidate.mayRender) return 'not-rendering-now'
  if (!job.enabled) return 'job-disabled'
  if (job.halted) return 'job-halted'
  if (job.status === 'DONE' || job.status === 'ERROR') return 'job-finished'
  if (!candidate.node.classifications.includes(job.classification)) return 'class-not-accepted'
  // What the node said its own config lets it run: `command` only where it was listed.
  if (!candidate.node.software.includes(job.software)) return 'software-not-accepted'
  if ((job.failuresByNode[candidate.node.id] ?? 0) >= FAILURES_BEFORE_AVOIDING_JOB) return 'failed-here-before'
  return null
}

/** Whether a block is free to claim: queued, or held by a node declared dead. */
function isRunnable (block: BlockView, dead: ReadonlySet<string>): boolean {
  if (block.status === 'QUEUE') return true
  return block.lease !== null && dead.has(block.lease.holder)
}

/** Jobs whose blocks may be handed out, in the farm's order. */
function steerableJobs (view: FarmView): JobView[] {
  return view.jobs.filter((job) => job.enabled && !job.halted)
}

/**
 * A job's runnable blocks in order, with the epoch their claim must carry: lazily, since
 * a job may have 50,000 blocks and a hand-out usually needs the first few.
 */
function * runnableBlocks (job: JobView, dead: ReadonlySet<string>): Generator<BlockRef> {
  for (const block of job.blocks) {
    if (isRunnable(block, dead)) yield { jobId: job.id, block: block.index, epoch: block.epoch + 1 }
  }
}

/** Whether `candidate` may be handed a block now: alive, with room for another lease. */
function hasRoom (candidate: Candidate, dead: ReadonlySet<string>): boolean {
  return candidate.leases < MAX_HELD_LEASES && !dead.has(candidate.node.id)
}

/**
 * How far into a job's runnable blocks the busy tier looks, per busy candidate with room:
 * on a farm of busy nodes each is top-ranked for about one block in as many as there are
 * candidates, so a few times that finds most of them one, and it bounds the cost of a
 * hand-out on a job of 50,000 blocks. Where many nodes are idle, a busy one may find none
 * in the window: the idle ones take the work, which is what they are for.
 */
const BUSY_SCAN_BLOCKS_PER_CANDIDATE = 4

/**
 * The hand-out every node computes alike. Idle candidates first, greedily: each runnable
 * block in order goes to its top-ranked idle, eligible candidate not yet handed one. Then
 * each busy candidate with room for another claim gets the first block left that it ranks
 * top for among every live eligible candidate, idle, busy or full: which block that is
 * depends neither on what the other nodes claimed just before nor on how many leases they
 * hold, so views that lag by a claim or two, or disagree on whose queue is full or empty,
 * still hand busy nodes distinct blocks. (Ranked among the busy nodes with room alone, a
 * fifth to a quarter of the blocks of three nodes rendering short blocks were claimed
 * twice.) Returns node id -> block. Eligibility depends on the job alone, so it is judged
 * once per job, and a job none of whose eligible candidates is still free is left at
 * once: the cost follows the blocks handed out, not the blocks the farm has.
 */
export function assignBlocks (view: FarmView, candidates: readonly Candidate[], dead: ReadonlySet<string> = new Set()): Map<string, BlockRef> {
  const assigned = new Map<string, BlockRef>()
  const handedOut = new Set<string>()
  const withRoom = candidates.filter((candidate) => hasRoom(candidate, dead))
  const idle = withRoom.filter((candidate) => candidate.leases === 0)
  const ranked = candidates.filter((candidate) => !dead.has(candidate.node.id))
  const give = (node: string, target: BlockRef, key: string): void => {
    assigned.set(node, target)
    handedOut.add(key)
  }
  for (const job of steerableJobs(view)) {
    if (assigned.size === idle.length) break
    const eligibleForJob = idle.filter((candidate) => ineligibility(candidate, job) === null)
    for (const target of runnableBlocks(job, dead)) {
      const eligible = eligibleForJob.filter((candidate) => !assigned.has(candidate.node.id))
      if (eligible.length === 0) break
      const key = blockKey(target.jobId, target.block, target.epoch)
      const [top] = rankPeers(key, eligible.map((candidate) => candidate.node.id))
      if (top !== undefined) give(top, target, key)
    }
  }
  const busyWithRoom = new Set(withRoom.filter((candidate) => candidate.leases > 0).map((candidate) => candidate.node.id))
  for (const job of steerableJobs(view)) {
    if (assigned.size === withRoom.length) break
    const eligible = ranked.filter((candidate) => ineligibility(candidate, job) === null).map((candidate) => candidate.node.id)
    const takers = eligible.filter((node) => busyWithRoom.has(node))
    let scanLeft = BUSY_SCAN_BLOCKS_PER_CANDIDATE * takers.length
    for (const target of runnableBlocks(job, dead)) {
      if (scanLeft-- <= 0 || takers.every((node) => assigned.has(node))) break
      const key = blockKey(target.jobId, target.block, target.epoch)
      if (handedOut.has(key)) continue
      const [top] = rankPeers(key, eligible)
      if (top !== undefined && busyWithRoom.has(top) && !assigned.has(top)) give(top, target, key)
    }
  }
  return assigned
}

/** Whether a live eligible candidate other than `self` outranks it for `target`. */
function outranked (target: BlockRef, self: string, eligible: readonly Candidate[]): boolean {
  const [top] = rankPeers(blockKey(target.jobId, target.block, target.epoch), eligible.map((candidate) => candidate.node.id))
  return top !== self
}

/**
 * What node `self` should claim now. Its own hand-out, at once (contested or not, see
 * ClaimDecision); otherwise, if idle, as a backup the first runnable block it is eligible
 * for, after CLAIM_STAGGER_MS per rank (the caller re-checks the block is still runnable
 * when the delay is over). A busy node is never a backup: idle nodes are there for that.
 * A busy node's claim is never contested either: its settle window passes while it
 * renders, and idle nodes are handed blocks before it.
 */
export function decideClaim (view: FarmView, self: string, candidates: readonly Candidate[], dead: ReadonlySet<string> = new Set()): ClaimDecision {
  const me = candidates.find((candidate) => candidate.node.id === self)
  if (me === undefined || !hasRoom(me, dead)) return { kind: 'idle' }
  const mine = assignBlocks(view, candidates, dead).get(self)
  const eligibleFor = (job: JobView): Candidate[] => candidates.filter((candidate) => !dead.has(candidate.node.id) && ineligibility(candidate, job) === null)
  if (mine !== undefined) {
    const job = view.jobs.find((candidate) => candidate.id === mine.jobId)
    const contested = me.leases === 0 && job !== undefined && outranked(mine, self, eligibleFor(job))
    return { kind: 'claim', target: mine, delayMs: 0, contested }
  }
  if (me.leases > 0) return { kind: 'idle' }
  for (const job of steerableJobs(view)) {
    if (ineligibility(me, job) !== null) continue
    const next = runnableBlocks(job, dead).next()
    if (next.done === true) continue
    const target = next.value
    const idle = eligibleFor(job).filter((candidate) => candidate.leases === 0)
    const rank = rankPeers(blockKey(target.jobId, target.block, target.epoch), idle.map((candidate) => candidate.node.id)).indexOf(self)
    return { kind: 'claim', target, delayMs: CLAIM_STAGGER_MS * Math.max(1, rank), contested: false }
  }
  return { kind: 'idle' }
}

/** Whether `self` holds the lease on `target` in `view`: checked after the settle window, and on every change while rendering. */
export function holdsLease (view: FarmView, self: string, target: BlockRef): boolean {
  const job = view.jobs.find((candidate) => candidate.id === target.jobId)
  const block = job?.blocks[target.block]
  return block?.lease?.holder === self && block.lease.epoch === target.epoch
}
