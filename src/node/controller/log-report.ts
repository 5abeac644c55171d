/**
 * The log report (the seed's constellationLogTable) read from a store: every row that
 * matches a filter, oldest first, and the rows of events as they arrive. A controller
 * and a render node's local endpoint read it alike.
 */
import type { EventStore } from '../store/event-store.js'
import { logEntryOf, type LogEntry } from '../../protocol/logs.js'
import { compareStamps } from '../../protocol/stamp.js'

export interface LogFilter {
  readonly jobId?: string
  /** A node's peer id. */
  readonly node?: string
}

function matches (entry: LogEntry, filter: LogFilter): boolean {
  return (filter.jobId === undefined || entry.jobId === filter.jobId) && (filter.node === undefined || entry.node === filter.node)
}

export async function logReport (store: Pick<EventStore, 'allEvents'>, filter: LogFilter = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = []
  for await (const verified of store.allEvents()) {
    const entry = logEntryOf(verified)
    if (entry !== null && matches(entry, filter)) entries.push(entry)
  }
  return entries.sort((a, b) => compareStamps(a.stamp, b.stamp))
}

/** Calls `listener` with each matching row as its event arrives, until the returned function is called. */
export function followLogReport (store: Pick<EventStore, 'onAppended'>, filter: LogFilter, listener: (entry: LogEntry) => void): () => void {
  return store.onAppended((verified) => {
    const entry = logEntryOf(verified)
    if (entry !== null && matches(entry, filter)) listener(entry)
  })
}
