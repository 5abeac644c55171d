/** The Logs screen: the log report filtered by job, node and severity, newest at the bottom. */
import { localTime, shortIdOf } from '../../cli/format.js'
import { nodeName } from '../../cli/nodes.js'
import type { FarmView } from '../../protocol/view.js'
import { SEVERITIES, type LogRecord, type Severity } from './snapshot.js'

export interface LogFilter {
  /** A job's id. */
  readonly jobId: string | null
  /** A node's peer id. */
  readonly node: string | null
  /** Records at least this severe. */
  readonly minimum: Severity
}

export const NO_LOG_FILTER: LogFilter = { jobId: null, node: null, minimum: 'info' }

export interface LogLine {
  readonly id: string
  readonly severity: Severity
  /** The record's head, then each line of the renderer's output under it. */
  readonly text: string
  readonly outputTail: readonly string[]
}

export function matchesLogFilter (record: LogRecord, filter: LogFilter): boolean {
  const { entry } = record
  return (filter.jobId === null || entry.jobId === filter.jobId) &&
    (filter.node === null || entry.node === filter.node) &&
    SEVERITIES.indexOf(record.severity) >= SEVERITIES.indexOf(filter.minimum)
}

export function logLines (records: readonly LogRecord[], filter: LogFilter, view: FarmView): LogLine[] {
  return records.filter((record) => matchesLogFilter(record, filter)).map(({ entry, severity }) => ({
    id: entry.id,
    severity,
    text: `${localTime(entry.registeredAt)}  ${(entry.clientName ?? nodeName(view, entry.node)).padEnd(10)}  ${(entry.jobId === null ? '-' : shortIdOf(entry.jobId)).padEnd(8)}  ${entry.description}`,
    outputTail: entry.outputTail
  }))
}

/** The filter in words, for the screen's title. */
export function describeLogFilter (filter: LogFilter, view: FarmView): string {
  const parts = [
    filter.jobId === null ? 'all jobs' : `job ${shortIdOf(filter.jobId)}`,
    filter.node === null ? 'all nodes' : `node ${nodeName(view, filter.node)}`,
    `${filter.minimum} and above`
  ]
  return parts.join(', ')
}
