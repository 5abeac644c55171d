/**
 * One node's activity summed over every job: the leases it holds, its latest outcome and
 * its render time. A farm of 100,000 jobs has thousands of them per node, and a block
 * event changes one; so the sums are kept by taking that job's old share away and adding
 * its new one (the shares are whole milliseconds and frame counts, so the sums are exact
 * and equal a fresh sum in any order), not summed afresh on every read.
 */
import { compareStamps, latestByStamp } from './stamp.js'
import type { BlockOutcome, NodeActivity, NodeView } from './view.js'

/** What a node's row takes from its activity (see deriveNode). */
export interface NodeActivitySummary {
  readonly holding: readonly NodeView['holding'][number][]
  readonly latest: BlockOutcome | null
  readonly totalMs: number
  readonly frames: number
  /** Jobs it has any share in: none means it never took part in a job. */
  readonly jobs: number
}

export const NO_ACTIVITY_SUMMARY: NodeActivitySummary = { holding: [], latest: null, totalMs: 0, frames: 0, jobs: 0 }

export class NodeActivityTotals {
  private readonly byJob = new Map<string, NodeActivity>()
  private readonly holdingJobs = new Set<string>()
  private totalMs = 0
  private frames = 0
  private latest: BlockOutcome | null = null
  /** The latest outcome left with its job's old share: found again, by a scan, at the next read. */
  private latestGone = false

  /** Sets one job's share of the node's activity; undefined when it has none any more. */
  set (jobId: string, activity: NodeActivity | undefined): void {
    const old = this.byJob.get(jobId)
    if (old !== undefined) {
      this.totalMs -= old.totalMs
      this.frames -= old.frames
      this.byJob.delete(jobId)
      this.holdingJobs.delete(jobId)
    }
    if (activity !== undefined) {
      this.totalMs += activity.totalMs
      this.frames += activity.frames
      this.byJob.set(jobId, activity)
      if (activity.holding.length > 0) this.holdingJobs.add(jobId)
    }
    this.takeLatest(old?.latest ?? null, activity?.latest ?? null)
  }

  summary (): NodeActivitySummary {
    if (this.latestGone) {
      this.latest = latestByStamp([...this.byJob.values()].flatMap((entry) => entry.latest ?? []))
      this.latestGone = false
    }
    const holding = [...this.holdingJobs].flatMap((job) => this.byJob.get(job)?.holding ?? [])
    return { holding, latest: this.latest, totalMs: this.totalMs, frames: this.frames, jobs: this.byJob.size }
  }

  get empty (): boolean {
    return this.byJob.size === 0
  }

  /** Keeps the latest outcome as one job's latest moves from `old` to `fresh`. */
  private takeLatest (old: BlockOutcome | null, fresh: BlockOutcome | null): void {
    if (this.latestGone) return
    const newer = fresh !== null && (this.latest === null || compareStamps(fresh.stamp, this.latest.stamp) >= 0)
    // The common case: the node's latest job moved on, so its latest outcome is newer still.
    if (newer) this.latest = fresh
    else if (old !== null && this.latest !== null && compareStamps(old.stamp, this.latest.stamp) === 0) this.latestGone = true
  }
}
