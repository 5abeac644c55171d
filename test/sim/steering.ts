/**
 * The steering in a run, as a studio does it while jobs render: a job is halted and
 * resumed, disabled and enabled, or deleted, by its artist or the wrangler; given a new
 * priority; retried when blocks fail (its scene fixed first), or once it is DONE (which
 * renders nothing again: a retry runs the failed blocks); and now and then halted or
 * deleted by a node that may not steer it. Every act goes to the recorder for the
 * steering invariants (invariants.ts).
 */
import type { DraftBody } from '../../src/protocol/events.js'
import type { JobPlan, SimNode } from './node.js'
import type { Prng } from './prng.js'
import type { EventQueue } from './queue.js'
import type { Recorder, SteerRecord } from './recorder.js'

/** How often the wrangler and the artist look at their jobs, to retry what failed. */
const STEER_LOOK_EVERY_MS = 1_000
/** A halt or disable waits up to this long for the job to be rendering before it is made anyway. */
const STEER_WAIT_MS = 5_000
/** Retries per job: enough to see a retried block fail again and be retried again. */
const MAX_RETRIES_PER_JOB = 2
/** How often a pending halt looks whether its job is rendering yet. */
const STEER_POLL_MS = 250

export interface SteeringInit {
  readonly prng: Prng
  readonly queue: EventQueue
  readonly recorder: Recorder
  /** Render plans by job id: a retry clears a job's fatal block (its artist fixed the scene first). */
  readonly plans: Map<string, JobPlan>
  /** The founder: a wrangler, who may steer every job. */
  readonly controller: SimNode
  readonly nodes: readonly SimNode[]
  /** Job ids by submission order, as they are submitted. */
  readonly jobIds: readonly string[]
  /** Steering happens before this. */
  readonly untilMs: number
  /** How many nodes, from the first, steer: the one after them is the outsider who may not. */
  readonly steerers: number
}

export interface SteeringPlan extends SteeringInit {
  /** One job at most is deleted per run, and never the only one. */
  deletePlanned: boolean
  readonly submitters: Map<string, SimNode>
  readonly deleted: Set<string>
  /** Jobs halted or disabled now, which the retry round leaves alone (a retry would enable them). */
  readonly off: Set<string>
  /** Who looks after each job's failures: its artist or the wrangler. */
  readonly retriers: Map<string, SimNode>
  readonly retries: Map<string, number>
  /** Jobs to retry once they are DONE. */
  readonly retryWhenDone: Set<string>
}

export function steeringPlan (init: SteeringInit): SteeringPlan {
  return { ...init, deletePlanned: false, submitters: new Map(), deleted: new Set(), off: new Set(), retriers: new Map(), retries: new Map(), retryWhenDone: new Set() }
}

type SteerAct = { readonly kind: 'halt' | 'resume' | 'disable' | 'enable' | 'delete' } | { readonly kind: 'priority', readonly priority: number } | { readonly kind: 'retry' }

function bodyOf (act: SteerAct, jobId: string): DraftBody {
  switch (act.kind) {
    case 'halt': return { type: 'job.edited', jobId, changes: { halted: true } }
    case 'resume': return { type: 'job.edited', jobId, changes: { halted: false } }
    case 'disable': return { type: 'job.edited', jobId, changes: { enabled: false } }
    case 'enable': return { type: 'job.edited', jobId, changes: { enabled: true } }
    case 'priority': return { type: 'job.edited', jobId, changes: { priority: act.priority } }
    case 'delete': return { type: 'job.deleted', jobId }
    case 'retry': return { type: 'job.retried', jobId }
  }
}

/** `author` writes `act` on `jobId`, and the recorder learns of it; nothing if the author is down. */
function steer (plan: SteeringPlan, author: SimNode, jobId: string, act: SteerAct): boolean {
  const view = author.replica.view()
  const job = view.jobs.find((candidate) => candidate.id === jobId)
  const failed = job?.blocks.filter((block) => block.status === 'ERROR').map((block) => block.index) ?? []
  if (author.write(bodyOf(act, jobId)) === null) return false
  // Authority from the facts (no roles change in a run): the submitter, or the founder.
  const authorized = author === plan.controller || author === plan.submitters.get(jobId)
  const common = { jobId, author: author.id, authorized, atMs: plan.queue.nowMs }
  const record: SteerRecord = act.kind === 'retry' ? { ...common, kind: 'retry', failed } : act.kind === 'priority' ? { ...common, ...act } : { ...common, kind: act.kind }
  plan.recorder.steering.push(record)
  plan.recorder.note(`${plan.queue.nowMs} ${author.index} steers ${act.kind} ${jobId}${authorized ? '' : ' without authority'}`)
  if (act.kind === 'retry') {
    plan.retries.set(jobId, (plan.retries.get(jobId) ?? 0) + 1)
    const render = plan.plans.get(jobId)
    if (render !== undefined) plan.plans.set(jobId, { ...render, fatalBlock: null })
  }
  if (authorized && act.kind === 'delete') plan.deleted.add(jobId)
  return true
}

/** Runs `act` once the job is rendering, or after STEER_WAIT_MS: steering matters while work is under way. */
function whileRendering (plan: SteeringPlan, jobId: string, act: () => void): void {
  const deadlineMs = plan.queue.nowMs + STEER_WAIT_MS
  const attempt = (): void => {
    const rendering = plan.nodes.some((node) => plan.recorder.rendering(node.id)?.jobId === jobId)
    if (rendering || plan.queue.nowMs >= deadlineMs) act()
    else plan.queue.after(STEER_POLL_MS, attempt)
  }
  attempt()
}

/**
 * What becomes of one job while it renders: at most one of halt (then resume), disable
 * (then enable) or delete, by its artist or the wrangler; perhaps a new priority; perhaps
 * an attempt to halt or delete it by a node that may not; perhaps a retry once it is done.
 */
export function scheduleSteering (plan: SteeringPlan, jobId: string, submitter: SimNode, jobCount: number): void {
  const { prng, queue, controller, nodes } = plan
  const steerers = [submitter, controller]
  plan.submitters.set(jobId, submitter)
  // A moment left for the act to take effect, and be undone, before `untilMs`.
  const when = (): number => Math.max(queue.nowMs, prng.int(1_000, plan.untilMs - 12_000))
  const kinds = ['halt', 'disable', 'none', 'none'] as const
  const kind = jobCount > 1 && !plan.deletePlanned && prng.chance(0.2) ? 'delete' : prng.pick(kinds)
  plan.retriers.set(jobId, prng.pick(steerers))
  if (kind === 'delete') {
    plan.deletePlanned = true
    const author = prng.pick(steerers)
    queue.at(when(), () => { whileRendering(plan, jobId, () => { steer(plan, author, jobId, { kind: 'delete' }) }) })
    return
  }
  if (kind !== 'none') {
    const offMs = prng.int(2_000, 8_000)
    const [stop, start] = kind === 'halt' ? ['halt', 'resume'] as const : ['disable', 'enable'] as const
    const author = prng.pick(steerers)
    const back = prng.pick(steerers)
    queue.at(when(), () => {
      whileRendering(plan, jobId, () => {
        if (!steer(plan, author, jobId, { kind: stop })) return
        plan.off.add(jobId)
        queue.after(offMs, () => {
          steer(plan, back, jobId, { kind: start })
          plan.off.delete(jobId)
        })
      })
    })
  }
  if (prng.chance(0.4)) {
    const priority = prng.int(0, 99)
    const author = prng.pick(steerers)
    queue.at(when(), () => { steer(plan, author, jobId, { kind: 'priority', priority }) })
  }
  const outsider = nodes[plan.steerers]
  if (kind === 'none' && outsider !== undefined && prng.chance(0.3)) {
    const act = prng.pick(['halt', 'delete'] as const)
    queue.at(when(), () => { whileRendering(plan, jobId, () => { steer(plan, outsider, jobId, { kind: act }) }) })
  }
  if (kind === 'none' && prng.chance(0.3)) plan.retryWhenDone.add(jobId)
}

/**
 * The retry round: every STEER_LOOK_EVERY_MS until `untilMs`, each job's retrier
 * looks at it; one with failed blocks is retried (its scene fixed first), up to
 * MAX_RETRIES_PER_JOB times, and one picked to be retried once done is retried then.
 */
export function scheduleRetries (plan: SteeringPlan): void {
  const look = (): void => {
    for (const jobId of plan.jobIds) {
      const author = plan.retriers.get(jobId)
      if (author === undefined || plan.deleted.has(jobId) || plan.off.has(jobId)) continue
      const job = author.replica.view().jobs.find((candidate) => candidate.id === jobId)
      if (job === undefined) continue
      const failed = job.blocks.some((block) => block.status === 'ERROR')
      const wanted = failed ? (plan.retries.get(jobId) ?? 0) < MAX_RETRIES_PER_JOB : job.status === 'DONE' && plan.retryWhenDone.delete(jobId)
      if (wanted) steer(plan, author, jobId, { kind: 'retry' })
    }
    if (plan.queue.nowMs + STEER_LOOK_EVERY_MS < plan.untilMs) plan.queue.after(STEER_LOOK_EVERY_MS, look)
  }
  plan.queue.at(2 * STEER_LOOK_EVERY_MS, look)
}
