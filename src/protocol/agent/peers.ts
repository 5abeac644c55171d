/**
 * What the scheduler needs of liveness: the candidate list (this node and the live peers
 * whose settings the log holds), the leases by holder for hailing, and the view with
 * freed leases queued again, so a block whose holder answered "no" is runnable at once.
 */
import type { LeaseRef, LivePeer } from '../liveness.js'
import type { Candidate } from '../scheduling.js'
import type { BlockView, FarmView } from '../view.js'

/** Every lease the view shows, by holder. */
export function leasesByHolder (view: FarmView): Map<string, LeaseRef[]> {
  const leases = new Map<string, LeaseRef[]>()
  for (const node of view.nodes) {
    if (node.holding.length > 0) leases.set(node.id, node.holding.map(({ jobId, block, epoch }) => ({ jobId, block, epoch })))
  }
  return leases
}

/**
 * This node and every live peer the log knows, as the scheduler sees them. A peer whose
 * settings have not reached us yet is left out until they do.
 */
export function candidatesOf (view: FarmView, self: Omit<Candidate, 'node'> & { readonly id: string }, live: readonly LivePeer[]): Candidate[] {
  const candidates: Candidate[] = []
  const byId = new Map(live.map((known) => [known.peer, known]))
  for (const node of view.nodes) {
    if (node.id === self.id) {
      candidates.push({ node, leases: self.leases, mayRender: self.mayRender })
      continue
    }
    const peer = byId.get(node.id)
    // Leases by the log, not the heartbeat: claims and outcomes are pushed at once, a heartbeat
    // is up to an interval old, and peers that disagree on who is idle hand out the same block twice.
    if (peer !== undefined) candidates.push({ node, leases: node.holding.length, mayRender: peer.beat.mayRender })
  }
  return candidates
}

/** The view with the leases `isFreed` names queued again at their epoch (so claims carry epoch + 1). */
export function withFreedLeases (view: FarmView, isFreed: (holder: string, lease: LeaseRef) => boolean): FarmView {
  const freed = (jobId: string, block: BlockView): boolean =>
    block.lease !== null && isFreed(block.lease.holder, { jobId, block: block.index, epoch: block.lease.epoch })
  // Every lease is in its holder's row: a few to look at, where the jobs may have 50,000 blocks each.
  const freedJobs = new Set(view.nodes.flatMap((node) => node.holding.filter((lease) => isFreed(node.id, lease)).map((lease) => lease.jobId)))
  if (freedJobs.size === 0) return view
  const jobs = view.jobs.map((job) => (!freedJobs.has(job.id)
    ? job
    : { ...job, blocks: job.blocks.map((block) => (freed(job.id, block) ? { ...block, status: 'QUEUE' as const, lease: null } : block)) }))
  return { ...view, jobs }
}
