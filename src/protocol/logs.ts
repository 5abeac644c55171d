/**
 * Log Report (seed 4.0): what happened to a job on its voyage, as rows of the seed's
 * constellationLogTable. Rows are read off the events themselves (a block claimed,
 * finished, failed with the renderer's output tail, an explicit log record), so the
 * report can never disagree with the log and nothing is recorded twice.
 */
import type { VerifiedEvent } from './events.js'
import { stampOf, type Stamp } from './stamp.js'

export interface LogEntry {
  /** The event's id: stable across peers, the row's primary key. */
  readonly id: string
  readonly stamp: Stamp
  /** The author's wall time in ms since the epoch (the seed's logRegistered). */
  readonly registeredAt: number
  /** The node that wrote it (the seed's clientName is resolved from this by the view). */
  readonly node: string
  /** A name the author gave in the record itself, if any. */
  readonly clientName: string | null
  readonly jobId: string | null
  readonly block: number | null
  readonly description: string
  readonly outputTail: readonly string[]
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function describe ({ event }: VerifiedEvent): Pick<LogEntry, 'clientName' | 'jobId' | 'block' | 'description' | 'outputTail'> | null {
  const { body } = event
  const none = { clientName: null, outputTail: [] as readonly string[] }
  switch (body.type) {
    case 'job.submitted':
      return { ...none, jobId: body.job.id, block: null, description: `submitted ${body.job.name}: ${body.job.software}, frames ${body.job.frameStart}-${body.job.frameEnd} in blocks of ${body.job.blockSize}, priority ${body.job.priority}, class ${body.job.classification}` }
    case 'job.edited':
      return { ...none, jobId: body.jobId, block: null, description: `edited ${Object.entries(body.changes).map(([field, value]) => `${field}=${String(value)}`).join(', ')}` }
    case 'job.retried':
      return { ...none, jobId: body.jobId, block: null, description: body.frames === undefined ? 'retry requested: failed blocks run again' : `re-render requested: frames ${body.frames.start}-${body.frames.end} render again` }
    case 'job.deleted':
      return { ...none, jobId: body.jobId, block: null, description: 'deleted' }
    case 'block.claimed':
      return { ...none, jobId: body.jobId, block: body.block, description: `claimed block ${body.block} (epoch ${body.epoch})` }
    case 'block.started':
      return { ...none, jobId: body.jobId, block: body.block, description: `started rendering block ${body.block} (epoch ${body.epoch})` }
    case 'block.finished': {
      const perFrame = body.wallMs / body.frameMs.length
      return { ...none, jobId: body.jobId, block: body.block, description: `finished block ${body.block}: ${body.frameMs.length} frames in ${seconds(body.wallMs)} (${seconds(perFrame)} per frame)` }
    }
    case 'block.failed':
      return { ...none, jobId: body.jobId, block: body.block, description: `block ${body.block} failed (${body.failure}): ${body.message}`, outputTail: body.outputTail }
    case 'block.released':
      return { ...none, jobId: body.jobId, block: body.block, description: `released block ${body.block} (epoch ${body.epoch}): ${body.reason}` }
    case 'log.recorded':
      return { clientName: body.clientName, jobId: body.jobId, block: body.block, description: body.description, outputTail: body.outputTail }
    case 'role.changed':
      return { ...none, jobId: null, block: null, description: `${body.granted ? 'granted' : 'revoked'} ${body.role} for ${body.peer}` }
    case 'node.settings':
      return null
  }
}

/** The log row an event stands for, or null for events that are not part of the report. */
export function logEntryOf (verified: VerifiedEvent): LogEntry | null {
  const described = describe(verified)
  if (described === null) return null
  return {
    id: verified.id,
    stamp: stampOf(verified),
    registeredAt: verified.event.wallTime,
    node: verified.event.author,
    ...described
  }
}
