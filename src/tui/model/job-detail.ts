/**
 * The Job detail screen: the job's block grid (status, holder, epoch, attempts, time per
 * frame), its failures with the renderer's output tail, its log records, and where its
 * frames go. A block whose holder hail found gone shows LOST: the log still says
 * RENDERING, but nobody is.
 */
import { duration, elapsedMs } from '../../cli/format.js'
import { nodeName } from '../../cli/nodes.js'
import type { BlockView, FarmView, JobView } from '../../protocol/view.js'
import type { BlockStatus } from '../../protocol/vocabulary.js'
import type { FarmSnapshot, LogRecord } from './snapshot.js'

export interface BlockRow {
  readonly index: number
  readonly frames: string
  readonly status: BlockStatus | 'LOST'
  readonly holder: string
  readonly epoch: number
  readonly attempts: number
  /** Per frame: a finished block's average, a running one's time so far with its progress. */
  readonly time: string
}

export interface FailureRow {
  readonly block: number
  readonly node: string
  readonly kind: string
  readonly message: string
  readonly outputTail: readonly string[]
}

export interface JobDetail {
  readonly job: JobView
  readonly blocks: readonly BlockRow[]
  readonly failures: readonly FailureRow[]
  readonly logs: readonly LogRecord[]
  /** Where finished frames are: the target folder, and how many are there by the log. */
  readonly frames: string
}

function blockTime (block: BlockView, progressPct: number | null, nowMs: number): string {
  if (block.status === 'DONE' && block.wallMs !== null) {
    const frames = block.frameEnd - block.frameStart + 1
    return `${duration(block.wallMs / frames)}/frame`
  }
  if (block.startedAt === null) return '-'
  const progress = progressPct === null ? '' : ` ${Math.round(progressPct)}%`
  return `${duration(elapsedMs(block.startedAt, nowMs))}${progress}`
}

function holderOf (block: BlockView, view: FarmView): string {
  if (block.lease !== null) return nodeName(view, block.lease.holder)
  if (block.finishedBy !== null) return nodeName(view, block.finishedBy)
  return block.holder === null ? '-' : `(${nodeName(view, block.holder)})`
}

export function blockRows (job: JobView, snapshot: Pick<FarmSnapshot, 'view' | 'heartbeats' | 'goneHolders'>, nowMs: number): BlockRow[] {
  return job.blocks.map((block) => {
    const holder = block.lease?.holder
    const beat = holder === undefined ? undefined : snapshot.heartbeats.get(holder)
    const sameBlock = beat?.lease?.jobId === job.id && beat.lease.block === block.index
    const lost = holder !== undefined && snapshot.goneHolders.has(holder)
    return {
      index: block.index,
      frames: block.frameStart === block.frameEnd ? String(block.frameStart) : `${block.frameStart}-${block.frameEnd}`,
      status: lost ? 'LOST' : block.status,
      holder: holderOf(block, snapshot.view) + (lost ? ' (gone)' : ''),
      epoch: block.epoch,
      attempts: block.attempts,
      time: blockTime(block, sameBlock ? beat.progressPct : null, nowMs)
    }
  })
}

/** The job's failures, newest first: each failed block's last failure, with the output its log record kept. */
function failuresOf (job: JobView, view: FarmView, logs: readonly LogRecord[]): FailureRow[] {
  return job.blocks.flatMap((block) => {
    const failure = block.lastFailure
    if (failure === null) return []
    const record = logs.findLast(({ entry }) => entry.block === block.index && entry.node === failure.node && entry.outputTail.length > 0)
    return [{ block: block.index, node: nodeName(view, failure.node), kind: failure.failure, message: failure.message, outputTail: record?.entry.outputTail ?? [] }]
  }).reverse()
}

export function jobDetail (job: JobView, snapshot: Pick<FarmSnapshot, 'view' | 'heartbeats' | 'goneHolders' | 'logs'>, nowMs: number): JobDetail {
  const logs = snapshot.logs.filter(({ entry }) => entry.jobId === job.id)
  return {
    job,
    blocks: blockRows(job, snapshot, nowMs),
    failures: failuresOf(job, snapshot.view, logs),
    logs,
    frames: `${job.targetPath} (${job.framesDone} of ${job.framesTotal} frames rendered there)`
  }
}
