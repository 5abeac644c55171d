/**
 * The report schema, defined once: the seed's tables (constellationJobTable,
 * constellationLogTable, constellationClientTable with its columns) plus the block and
 * frame tables, and the `schema_version` table that records which schema and which
 * version vector a destination reflects. ddl.ts turns this into each dialect's CREATE
 * statements; sinks and the dump write rows keyed by these column names.
 */
import { BLOCK_STATUS, CLIENT_STATUS, JOB_STATUS, SOFTWARE } from '../protocol/vocabulary.js'

/**
 * Bump when a table, column or view changes. A destination with a higher version was
 * written by a newer `cr`: the export refuses it rather than write rows it may misread.
 */
export const SCHEMA_VERSION = 2

/**
 * Portable column types. A row carries `timestamp` cells as ms since the epoch (UTC) and
 * `boolean` cells as booleans; each dialect stores them natively (see ddl.ts).
 */
export type ColumnType = 'text' | 'integer' | 'real' | 'timestamp' | 'boolean'

export interface Column {
  readonly name: string
  readonly type: ColumnType
  readonly nullable?: boolean
  /** Allowed values, enforced by a CHECK constraint. */
  readonly oneOf?: readonly string[]
}

export interface ForeignKey {
  readonly columns: readonly string[]
  readonly references: TableName
  readonly referencedColumns: readonly string[]
}

export interface Index {
  readonly name: string
  readonly columns: readonly string[]
}

export interface Table {
  readonly name: TableName
  readonly columns: readonly Column[]
  readonly primaryKey: readonly string[]
  readonly foreignKeys: readonly ForeignKey[]
  readonly indexes: readonly Index[]
}

export type TableName =
  | 'schema_version'
  | 'constellationJobTable'
  | 'constellationClientTable'
  | 'constellationBlockTable'
  | 'constellationFrameTable'
  | 'constellationLogTable'

export type Cell = string | number | boolean | null

/** One row: column name to value, every column of its table present. */
export type Row = Readonly<Record<string, Cell>>

const ENABLED_DISABLED = ['ENABLED', 'DISABLED'] as const

function col (name: string, type: ColumnType, options: Omit<Column, 'name' | 'type'> = {}): Column {
  return { name, type, ...options }
}

const nullable = { nullable: true } as const

/** One row: the schema this destination holds and the version vector its rows reflect. */
export const SCHEMA_VERSION_TABLE: Table = {
  name: 'schema_version',
  columns: [
    col('version', 'integer'),
    /** JSON of the version vector (author → highest seq) the rows reflect. */
    col('versionVector', 'text'),
    col('exportedAt', 'timestamp')
  ],
  primaryKey: ['version'],
  foreignKeys: [],
  indexes: []
}

export const JOB_TABLE: Table = {
  name: 'constellationJobTable',
  columns: [
    // The seed's jobId was assigned by its database; ours is the short id people type.
    col('jobId', 'text'),
    col('jobUuid', 'text'),
    col('jobName', 'text'),
    col('jobProject', 'text'),
    col('jobUser', 'text'),
    col('jobSoftware', 'text', { oneOf: SOFTWARE }),
    col('jobScriptPath', 'text'),
    col('jobTargetPath', 'text'),
    col('jobFrameStart', 'integer'),
    col('jobFrameEnd', 'integer'),
    col('jobBlockSize', 'integer'),
    col('jobLayer', 'text', nullable),
    col('jobStatus', 'text', { oneOf: JOB_STATUS }),
    col('jobBlocked', 'text', { oneOf: ENABLED_DISABLED }),
    col('jobHalted', 'boolean'),
    col('jobRegistered', 'timestamp'),
    col('jobPriority', 'integer'),
    col('jobCamera', 'text', nullable),
    col('jobClassification', 'text'),
    /** Average render time per frame in ms (the seed's Average Render Time); null before the first frame. */
    col('jobRenderTime', 'real', nullable),
    col('jobRenderTotalMs', 'real'),
    col('jobFramesTotal', 'integer'),
    col('jobFramesDone', 'integer'),
    col('jobMaxRetries', 'integer'),
    col('jobSubmittedBy', 'text'),
    col('jobError', 'text', nullable),
    /** A deleted job keeps its row, as it stood when deleted. */
    col('jobDeleted', 'boolean')
  ],
  primaryKey: ['jobUuid'],
  foreignKeys: [],
  indexes: [
    { name: 'constellationJob_project_registered', columns: ['jobProject', 'jobRegistered'] },
    { name: 'constellationJob_status', columns: ['jobStatus'] }
  ]
}

export const CLIENT_TABLE: Table = {
  name: 'constellationClientTable',
  columns: [
    /** The node's peer id (the seed's clientId was assigned by its database). */
    col('clientId', 'text'),
    col('clientName', 'text'),
    /** A job the node holds a lease on now, if any. */
    col('clientJob', 'text', nullable),
    col('clientBlocked', 'text', { oneOf: ENABLED_DISABLED }),
    col('clientMemory', 'integer'),
    col('clientThread', 'integer'),
    col('clientWorkMemory', 'integer'),
    col('clientWorkThread', 'integer'),
    /** Its classifications, comma-separated, A-Z. */
    col('clientClassification', 'text'),
    /** From the log alone: liveness is not in it, so OFFLINE is never claimed here. */
    col('clientStatus', 'text', { oneOf: CLIENT_STATUS }),
    col('clientSoftware', 'text'),
    col('clientRenderTotalMs', 'real'),
    col('clientFrames', 'integer')
  ],
  primaryKey: ['clientId'],
  foreignKeys: [],
  indexes: []
}

export const BLOCK_TABLE: Table = {
  name: 'constellationBlockTable',
  columns: [
    col('jobUuid', 'text'),
    col('blockIndex', 'integer'),
    col('blockFrameStart', 'integer'),
    col('blockFrameEnd', 'integer'),
    col('blockStatus', 'text', { oneOf: BLOCK_STATUS }),
    col('blockHolder', 'text', nullable),
    col('blockEpoch', 'integer'),
    /** Failures that count against the retry limit (since the last retry). */
    col('blockAttempts', 'integer'),
    /** Every failure reported for it, retried or not, by anyone who claimed it. */
    col('blockFailures', 'integer'),
    col('blockStarted', 'timestamp', nullable),
    col('blockFinished', 'timestamp', nullable),
    col('blockWallMs', 'real', nullable),
    /** JSON array of { frame, ms }, in frame order. */
    col('blockFrameTimes', 'text'),
    col('blockFinishedBy', 'text', nullable),
    col('blockLastFailure', 'text', nullable)
  ],
  primaryKey: ['jobUuid', 'blockIndex'],
  foreignKeys: [{ columns: ['jobUuid'], references: 'constellationJobTable', referencedColumns: ['jobUuid'] }],
  indexes: [
    { name: 'constellationBlock_finishedBy_finished', columns: ['blockFinishedBy', 'blockFinished'] }
  ]
}

export const FRAME_TABLE: Table = {
  name: 'constellationFrameTable',
  columns: [
    col('jobUuid', 'text'),
    col('frameNumber', 'integer'),
    col('blockIndex', 'integer'),
    col('frameMs', 'real'),
    col('frameNode', 'text'),
    /** When its block finished (frames of a block are delivered together). */
    col('frameFinished', 'timestamp'),
    /**
     * Where the frame was delivered: the job's target directory. The file name within it
     * is each renderer's own convention (src/render/adapters), which the log does not hold.
     */
    col('frameOutputDir', 'text')
  ],
  primaryKey: ['jobUuid', 'frameNumber'],
  foreignKeys: [
    { columns: ['jobUuid'], references: 'constellationJobTable', referencedColumns: ['jobUuid'] },
    { columns: ['jobUuid', 'blockIndex'], references: 'constellationBlockTable', referencedColumns: ['jobUuid', 'blockIndex'] }
  ],
  indexes: [
    { name: 'constellationFrame_finished', columns: ['frameFinished'] },
    { name: 'constellationFrame_node', columns: ['frameNode', 'frameFinished'] }
  ]
}

export const LOG_TABLE: Table = {
  name: 'constellationLogTable',
  columns: [
    /** The event's id: the same on every peer. */
    col('logId', 'text'),
    /** The peer that wrote it (a node, or an artist's CLI). */
    col('clientId', 'text'),
    /**
     * The event's place in its writer's feed. With clientId it names the event as surely
     * as logId does (a feed never forks), and it is the key: the log is read feed by feed,
     * so rows arrive in key order and a million of them append to the key's index rather
     * than landing at random places in it, as event ids (hashes) would.
     */
    col('logSeq', 'integer'),
    /**
     * The name the event itself gave, if any: a function of the event alone, so a later
     * rename never rewrites history (join constellationClientTable for the current name).
     */
    col('clientName', 'text', nullable),
    /** No foreign key: the log may mention a job before (or without) its submission. */
    col('jobUuid', 'text', nullable),
    col('logBlock', 'integer', nullable),
    /** The event type (block.failed, job.submitted, ...), for queries. */
    col('logKind', 'text'),
    col('logDescription', 'text'),
    /** The renderer's last output lines, newline-separated. */
    col('logOutputTail', 'text'),
    col('logRegistered', 'timestamp')
  ],
  primaryKey: ['clientId', 'logSeq'],
  foreignKeys: [],
  indexes: [
    { name: 'constellationLog_kind_client', columns: ['logKind', 'clientId'] },
    { name: 'constellationLog_job', columns: ['jobUuid'] },
    { name: 'constellationLog_registered', columns: ['logRegistered'] }
  ]
}

/** The report tables, parents before children (the order to create and fill them in). */
export const REPORT_TABLES: readonly Table[] = [JOB_TABLE, CLIENT_TABLE, BLOCK_TABLE, FRAME_TABLE, LOG_TABLE]

/** Every table a destination holds, `schema_version` first. */
export const ALL_TABLES: readonly Table[] = [SCHEMA_VERSION_TABLE, ...REPORT_TABLES]

export function tableNamed (name: TableName): Table {
  const table = ALL_TABLES.find((candidate) => candidate.name === name)
  if (table === undefined) throw new Error(`no report table ${name}`)
  return table
}
