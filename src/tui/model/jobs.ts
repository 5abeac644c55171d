/**
 * The Jobs screen's rows, from the farm view: scheduling order as the view keeps it,
 * status, progress, average frame time and an ETA from that average and the nodes now on
 * the job. A job's row text depends only on the job (JobView objects are replaced when
 * they change, never mutated) and on the lost holders, so rows are cached per JobView and
 * a farm of 1,000 jobs re-derives only the few that changed.
 */
import { duration } from '../../cli/format.js'
import type { JobView } from '../../protocol/view.js'
import type { JobStatus } from '../../protocol/vocabulary.js'

export interface JobRow {
  readonly job: JobView
  readonly id: string
  readonly shortId: string
  readonly name: string
  /** The status shown: the job's, with DISABLED for a job no node may take. */
  readonly status: JobStatus | 'DISABLED'
  readonly framesDone: number
  readonly framesTotal: number
  readonly priority: number
  readonly classification: string
  readonly user: string
  readonly project: string
  readonly averageFrame: string
  /** From the average frame time and the nodes rendering it now (holders hail has not found gone). */
  readonly eta: string
}

/** Time left: frames to go times the average frame time, shared by the nodes on it. */
export function etaOf (job: JobView, nodesOn: number): string {
  if (job.status === 'DONE') return 'done'
  const average = job.renderTime.averageFrameMs
  if (average === null) return '-'
  if (nodesOn === 0) return 'waiting'
  return duration(((job.framesTotal - job.framesDone) * average) / nodesOn)
}

function nodesOnJob (job: JobView, gone: ReadonlySet<string>): number {
  const holders = new Set<string>()
  for (const block of job.blocks) {
    if (block.lease !== null && !gone.has(block.lease.holder)) holders.add(block.lease.holder)
  }
  return holders.size
}

export function jobRowOf (job: JobView, gone: ReadonlySet<string>): JobRow {
  return {
    job,
    id: job.id,
    shortId: job.shortId,
    name: job.name,
    status: !job.enabled && job.status !== 'DONE' ? 'DISABLED' : job.status,
    framesDone: job.framesDone,
    framesTotal: job.framesTotal,
    priority: job.priority,
    classification: job.classification,
    user: job.user,
    project: job.project,
    averageFrame: duration(job.renderTime.averageFrameMs),
    eta: etaOf(job, nodesOnJob(job, gone))
  }
}

/** Rows for jobs, reusing the previous row of every job whose view (and the set of lost holders) is unchanged. */
export class JobRows {
  private cache = new WeakMap<JobView, JobRow>()
  private gone: ReadonlySet<string> = new Set()

  rows (jobs: readonly JobView[], gone: ReadonlySet<string>): JobRow[] {
    if (!sameMembers(gone, this.gone)) {
      this.cache = new WeakMap()
      this.gone = gone
    }
    return jobs.map((job) => {
      let row = this.cache.get(job)
      if (row === undefined) {
        row = jobRowOf(job, gone)
        this.cache.set(job, row)
      }
      return row
    })
  }
}

function sameMembers (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((member) => b.has(member))
}

/** `/` filter: every word must appear in the job's name, project, user or status (any case). */
export function matchesFilter (row: JobRow, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter((word) => word !== '')
  if (words.length === 0) return true
  const haystack = `${row.name} ${row.project} ${row.user} ${row.status} ${row.shortId}`.toLowerCase()
  return words.every((word) => haystack.includes(word))
}
