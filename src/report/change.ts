/**
 * Builds the change that brings a destination from the version vector it reflects to
 * the source's: everything when it is empty, otherwise the rows of the jobs the newer
 * events touched, every client (they are few, and sum over all jobs) and the newer log
 * rows. Because rows are a function of the state alone, applying that change to the
 * older export gives the same rows as a fresh full export.
 *
 * Rows reach the sink a batch at a time as it reads them, so a full export of a million
 * events never holds its million rows: they die young, which is what keeps the garbage
 * collector from marking a heap of them over and over.
 *
 * Deleted jobs keep their rows, as they stood before the delete: a submitter's delete
 * compacts the job's records to a tombstone, so they are rebuilt from the job's own
 * events (the log keeps them all) with the deletes left out.
 */
import { FarmViewCache } from '../protocol/farm-view.js'
import type { VerifiedEvent } from '../protocol/events.js'
import { reduce, type FarmRecords } from '../protocol/records.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { FarmView, JobView } from '../protocol/view.js'
import { clientRow, jobRows, logRow } from './rows.js'
import type { Row } from './schema.js'
import type { ReportChange, TableKeys, TableRows } from './sink.js'
import type { ExportSource } from './source.js'

/** Jobs whose rows go to the sink together: some thousands of rows. */
const JOBS_PER_BATCH = 250
/** Log rows per batch. */
const LOG_ROWS_PER_BATCH = 2_000

/** The job an event is about, if any. */
function jobOf ({ event: { body } }: VerifiedEvent): string | null {
  if (body.type === 'job.submitted') return body.job.id
  return 'jobId' in body ? body.jobId : null
}

/** A job's view with the records its rows come from; `deleted`: as it stood before its delete. */
interface JobState {
  readonly view: JobView
  readonly records: FarmRecords
  readonly deleted: boolean
}

/** Jobs whose records exist but whose view is gone: deleted (a tombstone, or a counting delete). */
function deletedAmong (ids: Iterable<string>, records: FarmRecords, live: ReadonlyMap<string, JobView>): Set<string> {
  const deleted = new Set<string>()
  for (const id of ids) {
    const record = records.jobs[id]
    if (record === undefined || live.has(id)) continue
    if (record.tombstone !== undefined || record.submission !== null) deleted.add(id)
  }
  return deleted
}

/** Gathers deleted jobs' events as the log goes by, then rebuilds each job's view without its deletes. */
class DeletedJobs {
  private readonly events = new Map<string, VerifiedEvent[]>()
  constructor (readonly ids: ReadonlySet<string>) {}

  take (verified: VerifiedEvent): void {
    const job = jobOf(verified)
    if (job === null || !this.ids.has(job) || verified.event.body.type === 'job.deleted') return
    const events = this.events.get(job)
    if (events === undefined) this.events.set(job, [verified])
    else events.push(verified)
  }

  rebuilt ({ roles }: FarmRecords, founder: FarmView['founder']): JobState[] {
    const states: JobState[] = []
    for (const events of this.events.values()) {
      const records: FarmRecords = { ...reduce(events), roles }
      const [view] = new FarmViewCache(records, { founder }).view().jobs
      if (view !== undefined) states.push({ view, records, deleted: true })
    }
    return states
  }
}

/** Each job's rows, a batch of jobs at a time, parents before children. */
function * jobTables (jobs: readonly JobState[]): Generator<TableRows> {
  for (let from = 0; from < jobs.length; from += JOBS_PER_BATCH) {
    const job: Row[] = []
    const blocks: Row[] = []
    const frames: Row[] = []
    for (const state of jobs.slice(from, from + JOBS_PER_BATCH)) {
      const record = state.records.jobs[state.view.id]
      if (record === undefined) continue
      const rows = jobRows(state.view, record, state.deleted)
      job.push(rows.job)
      blocks.push(...rows.blocks)
      frames.push(...rows.frames)
    }
    yield { table: 'constellationJobTable', rows: job }
    yield { table: 'constellationBlockTable', rows: blocks }
    yield { table: 'constellationFrameTable', rows: frames }
  }
}

/** The log rows of `events`, in batches, handing every event to `each` as it goes by. */
async function * logTables (events: AsyncIterable<VerifiedEvent>, each: (verified: VerifiedEvent) => void): AsyncGenerator<TableRows> {
  let rows: Row[] = []
  for await (const verified of events) {
    each(verified)
    const row = logRow(verified)
    if (row !== null) rows.push(row)
    if (rows.length >= LOG_ROWS_PER_BATCH) {
      yield { table: 'constellationLogTable', rows }
      rows = []
    }
  }
  if (rows.length > 0) yield { table: 'constellationLogTable', rows }
}

/** Rows that a sink reads once per apply: each iteration runs `batches` afresh. */
function replayable (batches: () => AsyncGenerator<TableRows>): AsyncIterable<TableRows> {
  return { [Symbol.asyncIterator]: batches }
}

/** Everything, for an empty destination: live jobs, clients, then the log read once, gathering deleted jobs on the way. */
function fullUpserts (source: ExportSource, view: FarmView, records: FarmRecords): AsyncIterable<TableRows> {
  return replayable(async function * () {
    const live = new Map(view.jobs.map((job) => [job.id, job]))
    // In key order, so their rows append to the tables' keys (see the log's logSeq).
    const inKeyOrder = view.jobs.toSorted((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    yield * jobTables(inKeyOrder.map((job) => ({ view: job, records, deleted: false })))
    yield { table: 'constellationClientTable', rows: view.nodes.map(clientRow) }
    const deleted = new DeletedJobs(deletedAmong(Object.keys(records.jobs), records, live))
    yield * logTables(source.allEvents(), (verified) => { deleted.take(verified) })
    yield * jobTables(deleted.rebuilt(records, view.founder))
  })
}

/** What the newer events touched. `all`: authority moved (a role changed), so any job may count differently. */
interface Touched {
  readonly jobs: Set<string> | 'all'
  /** Jobs of which the newer events held nothing but deletes. */
  readonly onlyDeleted: ReadonlySet<string>
  readonly logs: Row[]
}

async function readTouched (events: AsyncIterable<VerifiedEvent>): Promise<Touched> {
  let jobs: Set<string> | 'all' = new Set()
  const deletes = new Set<string>()
  const otherwise = new Set<string>()
  const logs: Row[] = []
  for await (const verified of events) {
    const log = logRow(verified)
    if (log !== null) logs.push(log)
    if (verified.event.body.type === 'role.changed') jobs = 'all'
    const job = jobOf(verified)
    if (job === null) continue
    if (jobs !== 'all') jobs.add(job)
    if (verified.event.body.type === 'job.deleted') deletes.add(job)
    else otherwise.add(job)
  }
  return { jobs, onlyDeleted: new Set([...deletes].filter((job) => !otherwise.has(job))), logs }
}

/**
 * Deleted jobs whose rows the destination holds as they stood: none of their other events
 * is newer than it, and no role changed that could make those count otherwise. Only their
 * jobDeleted flag changes, so the log need not be read again to rebuild them.
 */
function unchangedButDeleted (deleted: ReadonlySet<string>, touched: Touched): Set<string> {
  if (touched.jobs === 'all') return new Set()
  return new Set([...deleted].filter((job) => touched.onlyDeleted.has(job)))
}

/**
 * What changed since `since`: the touched jobs' rows (their frames removed first, as a
 * finish can stop counting when its author's role is revoked), and the client table
 * replaced whole, since a node can drop out of the view (its settings' author revoked).
 */
async function incrementalChange (source: ExportSource, view: FarmView, records: FarmRecords, since: VersionVector, upTo: VersionVector): Promise<Pick<ReportChange, 'upserts' | 'removals' | 'markedDeleted'>> {
  const touched = await readTouched(source.eventsBetween(since, upTo))
  const live = new Map(view.jobs.map((job) => [job.id, job]))
  const jobIds = touched.jobs === 'all' ? Object.keys(records.jobs) : [...touched.jobs]
  const deletedIds = deletedAmong(jobIds, records, live)
  const markedDeleted = unchangedButDeleted(deletedIds, touched)
  const deleted = new DeletedJobs(new Set([...deletedIds].filter((job) => !markedDeleted.has(job))))
  if (deleted.ids.size > 0) for await (const verified of source.allEvents()) deleted.take(verified)
  const jobs: JobState[] = [...deleted.rebuilt(records, view.founder)]
  for (const id of jobIds) {
    const job = live.get(id)
    if (job !== undefined) jobs.push({ view: job, records, deleted: false })
  }
  const removals: TableKeys[] = [{ table: 'constellationClientTable', keys: [{}] }]
  if (jobs.length > 0) removals.push({ table: 'constellationFrameTable', keys: jobs.map((job) => ({ jobUuid: job.view.id })) })
  // Few rows, against a full export's many: built here and now.
  const upserts: TableRows[] = [...jobTables(jobs), { table: 'constellationClientTable', rows: view.nodes.map(clientRow) }, { table: 'constellationLogTable', rows: touched.logs }]
  return { upserts, removals, markedDeleted: [...markedDeleted] }
}

/**
 * The change from `since` (null: an empty destination) to the source's state now.
 * `exportedAt` is passed in, as the clock is.
 */
export async function buildChange (source: ExportSource, since: VersionVector | null, exportedAt: number): Promise<ReportChange> {
  // Taken together, before any await, so rows and vector describe one state. Should the
  // replica take in more events while the rows are read, a job's rows may show some of
  // them: those events are above `vector`, so the next run rewrites that job anyway.
  const view = source.view()
  const records = source.records()
  const vector = source.versionVector()
  const rows = since === null ? { upserts: fullUpserts(source, view, records), removals: [], markedDeleted: [] } : await incrementalChange(source, view, records, since, vector)
  return { ...rows, vector, exportedAt }
}
