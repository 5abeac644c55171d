/**
 * What a command reads of the farm, whoever answers it: its own controller (controller.ts)
 * or the process that holds its data directory (../local). Commands are written against
 * this, so they read alike either way.
 */
import type { LogEntry } from '../../protocol/logs.js'
import type { FarmView } from '../../protocol/view.js'
import type { LogFilter } from './controller.js'

export interface FarmReads {
  readonly view: () => FarmView
  /** Peers known to be up now. */
  readonly livePeers: () => ReadonlySet<string>
  /** How far `peer`'s clock is from ours, when worth a warning. */
  readonly clockSkewOf: (peer: string) => number | null
  /** The log report's rows that match, oldest first. */
  readonly logs: (filter?: LogFilter) => Promise<LogEntry[]>
  /** Calls `listener` with each matching row as it arrives, until the returned function is called. */
  readonly followLogs: (filter: LogFilter, listener: (entry: LogEntry) => void) => () => void
}
