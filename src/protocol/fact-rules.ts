/**
 * Whether a fact would count, judged against a peer's current view: the same rules the
 * view applies (authority.ts, view.ts), asked before the fact is written or when it
 * arrives. A writer asks first, so it never writes a fact that would have no effect; a
 * receiver asks on arrival, so a refused fact is logged with its author and reason. The
 * view remains the judge: a fact judged here against a view that lags (its job not yet
 * seen, a grant not yet arrived) is still counted, or not, by the view once all is in.
 */
import type { EventBody } from './events.js'
import type { FarmView } from './view.js'

export type FactRefusalReason =
  | 'not-job-owner'
  | 'not-node-or-wrangler'
  | 'software-only-by-node'
  | 'not-wrangler'
  | 'epoch-jump'
  | 'not-lease-holder'
  | 'wrong-frame-count'

/** A fact that breaks an authority rule: it is kept in the log, but has no effect. */
export interface FactRefusal {
  readonly reason: FactRefusalReason
  readonly why: string
}

const refuse = (reason: FactRefusalReason, why: string): FactRefusal => ({ reason, why })

/** Null when `author`'s fact `body` would count in `view` (or cannot be judged yet), else why not. */
export function judgeFact (view: FarmView, author: string, body: EventBody): FactRefusal | null {
  return factJudge(view)(author, body)
}

/** A judge for many facts against one view (a batch of them), which finds jobs by id without searching the list each time. */
export function factJudge (view: FarmView): (author: string, body: EventBody) => FactRefusal | null {
  const jobs = new Map(view.jobs.map((job) => [job.id, job]))
  return (author, body) => judge(view, jobs, author, body)
}

function judge (view: FarmView, jobs: ReadonlyMap<string, FarmView['jobs'][number]>, author: string, body: EventBody): FactRefusal | null {
  const wrangler = view.wranglers.includes(author)
  switch (body.type) {
    case 'job.submitted':
    case 'log.recorded':
      return null
    case 'role.changed':
      return wrangler ? null : refuse('not-wrangler', `only the farm's founder or a wrangler may ${body.granted ? 'grant' : 'revoke'} a role`)
    case 'node.settings':
      if (body.changes.software !== undefined && author !== body.node) {
        return refuse('software-only-by-node', 'what software a node runs is set in that node\'s own config, not from elsewhere')
      }
      return author === body.node || wrangler ? null : refuse('not-node-or-wrangler', 'a node\'s settings may be changed only by that node or a wrangler')
    case 'job.edited':
    case 'job.retried':
    case 'job.deleted': {
      const job = jobs.get(body.jobId)
      if (job === undefined || job.submittedBy === author || wrangler) return null
      return refuse('not-job-owner', 'a job may be steered only by the peer that submitted it or a wrangler')
    }
    default: {
      const block = jobs.get(body.jobId)?.blocks[body.block]
      if (block === undefined) return null
      if (body.type === 'block.claimed') {
        return body.epoch <= block.epoch + 1 ? null : refuse('epoch-jump', `a claim may be at most one epoch past the block's current epoch ${block.epoch}, not ${body.epoch}`)
      }
      // A claimant's finish counts even when it lost its epoch's collision (see view.ts),
      // and the view keeps no claimant list to tell one from a stranger: the view decides.
      if (body.type !== 'block.finished' && body.epoch === block.epoch && block.holder !== author) {
        return refuse('not-lease-holder', `only the holder of block ${body.block}'s lease at epoch ${body.epoch} may state what became of it`)
      }
      if (body.type === 'block.finished' && body.frameMs.length !== block.frameEnd - block.frameStart + 1) {
        return refuse('wrong-frame-count', `block ${body.block} has ${block.frameEnd - block.frameStart + 1} frames, not ${body.frameMs.length}`)
      }
      return null
    }
  }
}
