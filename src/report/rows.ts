/**
 * Rows of the report tables, derived from the farm view (jobs, blocks, nodes) with the
 * records for what the view leaves out (when a block started and finished), and from the
 * events themselves for the log. Pure: equal inputs give equal rows, which is what makes
 * an incremental export equal a full one.
 */
import type { VerifiedEvent } from '../protocol/events.js'
import { logEntryOf } from '../protocol/logs.js'
import type { BlockFact, BlockRecord, JobRecord } from '../protocol/records.js'
import { compareStamps } from '../protocol/stamp.js'
import { clientStatus, type BlockView, type JobView, type NodeView } from '../protocol/view.js'
import type { Row } from './schema.js'

export interface JobRows {
  readonly job: Row
  readonly blocks: readonly Row[]
  readonly frames: readonly Row[]
}

function earliest<T extends BlockFact> (facts: readonly T[]): T | undefined {
  return [...facts].sort((a, b) => compareStamps(a.stamp, b.stamp))[0]
}

/** When the counting finish and its start happened: the view keeps neither time. */
function blockTimes (view: BlockView, record: BlockRecord | undefined): { started: number | null, finished: number | null } {
  if (view.finishedBy === null || record === undefined) return { started: view.startedAt, finished: null }
  const finish = earliest(Object.values(record.finishes).filter((fact) => fact.stamp.author === view.finishedBy && fact.wallMs === view.wallMs))
  if (finish === undefined) return { started: null, finished: null }
  const start = earliest(Object.values(record.starts).filter((fact) => fact.stamp.author === finish.stamp.author && fact.epoch === finish.epoch))
  return { started: start?.wallTime ?? null, finished: finish.wallTime }
}

function blockRow (job: JobView, view: BlockView, record: BlockRecord | undefined, times: { started: number | null, finished: number | null }): Row {
  return {
    jobUuid: job.id,
    blockIndex: view.index,
    blockFrameStart: view.frameStart,
    blockFrameEnd: view.frameEnd,
    blockStatus: view.status,
    blockHolder: view.holder,
    blockEpoch: view.epoch,
    blockAttempts: view.attempts,
    blockFailures: record === undefined ? 0 : Object.keys(record.failures).length,
    blockStarted: times.started,
    blockFinished: times.finished,
    blockWallMs: view.wallMs,
    blockFrameTimes: JSON.stringify(view.frameTimes),
    blockFinishedBy: view.finishedBy,
    blockLastFailure: view.lastFailure === null ? null : `${view.lastFailure.failure}: ${view.lastFailure.message}`
  }
}

/** A job's row, its blocks' and its finished frames'. `deleted`: the view as it stood before the delete. */
export function jobRows (job: JobView, record: JobRecord, deleted: boolean): JobRows {
  const blocks: Row[] = []
  const frames: Row[] = []
  for (const view of job.blocks) {
    const blockRecord = record.blocks[String(view.index)]
    const times = blockTimes(view, blockRecord)
    blocks.push(blockRow(job, view, blockRecord, times))
    if (view.finishedBy === null || times.finished === null) continue
    for (const { frame, ms } of view.frameTimes) {
      frames.push({ jobUuid: job.id, frameNumber: frame, blockIndex: view.index, frameMs: ms, frameNode: view.finishedBy, frameFinished: times.finished, frameOutputDir: job.targetPath })
    }
  }
  const row: Row = {
    jobId: job.shortId,
    jobUuid: job.id,
    jobName: job.name,
    jobProject: job.project,
    jobUser: job.user,
    jobSoftware: job.software,
    jobScriptPath: job.scenePath,
    jobTargetPath: job.targetPath,
    jobFrameStart: job.frameStart,
    jobFrameEnd: job.frameEnd,
    jobBlockSize: job.blockSize,
    jobLayer: job.layer,
    jobStatus: job.status,
    jobBlocked: job.enabled ? 'ENABLED' : 'DISABLED',
    jobHalted: job.halted,
    jobRegistered: job.registeredAt,
    jobPriority: job.priority,
    jobCamera: job.camera,
    jobClassification: job.classification,
    jobRenderTime: job.renderTime.averageFrameMs,
    jobRenderTotalMs: job.renderTime.totalMs,
    jobFramesTotal: job.framesTotal,
    jobFramesDone: job.framesDone,
    jobMaxRetries: job.maxRetries,
    jobSubmittedBy: job.submittedBy,
    jobError: job.error,
    jobDeleted: deleted
  }
  return { job: row, blocks, frames }
}

/** A node's row of the client table. The log holds no liveness: a node is never called OFFLINE here. */
export function clientRow (node: NodeView): Row {
  return {
    clientId: node.id,
    clientName: node.name,
    clientJob: node.holding[0]?.jobId ?? null,
    clientBlocked: node.blocked ? 'DISABLED' : 'ENABLED',
    clientMemory: node.memoryLimitMb,
    clientThread: node.threadLimit,
    clientWorkMemory: node.workMemoryLimitMb,
    clientWorkThread: node.workThreadLimit,
    clientClassification: node.classifications.join(','),
    clientStatus: clientStatus(node, true),
    clientSoftware: node.software.join(','),
    clientRenderTotalMs: node.renderTime.totalMs,
    clientFrames: node.renderTime.frames
  }
}

/** The log row an event stands for (logs.ts decides which do), or null. */
export function logRow (verified: VerifiedEvent): Row | null {
  const entry = logEntryOf(verified)
  if (entry === null) return null
  return {
    logId: entry.id,
    clientId: entry.node,
    logSeq: verified.event.seq,
    clientName: entry.clientName,
    jobUuid: entry.jobId,
    logBlock: entry.block,
    logKind: verified.event.body.type,
    logDescription: entry.description,
    logOutputTail: entry.outputTail.join('\n'),
    logRegistered: entry.registeredAt
  }
}
