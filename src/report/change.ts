/**
 * Builds the change that brings a destination from the version vector it reflects to
 * the source's: everything when it is empty, otherwise the rows of the jobs the newer
 * events touched, every client (they sum over all jobs, and are few) and the newer log
 * rows. Because rows are a function of the state alone, applying that change to the
 * older export gives the same rows as a fresh full export.
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
import type { Row, TableName } from './schema.js'
import type { ReportChange, TableKeys, TableRows } from './sink.js'
import type { ExportSource } from './source.js'

/** The job an event is about, if any. */
function jobOf ({ event: { body } }: VerifiedEvent): string | null {
  if (body.type === 'job.submitted') return body.job.id
  return 'jobId' in body ? body.jobId : null
}

/** What the newer events touched. `all`: authority moved (a role changed), so any job may count differently. */
interface Touched {
  readonly jobs: Set<string> | 'all'
  readonly logs: Row[]
}

async function readTouched (events: AsyncIterable<VerifiedEvent>, everything: boolean): Promise<Touched> {
  let jobs: Set<string> | 'all' = everything ? 'all' : new Set()
  const logs: Row[] = []
  for await (const verified of events) {
    const log = logRow(verified)
    if (log !== null) logs.push(log)
    if (verified.event.body.type === 'role.changed') jobs = 'all'
    const job = jobOf(verified)
    if (job !== null && jobs !== 'all') jobs.add(job)
  }
  return { jobs, logs }
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

/** Each deleted job's view as it stood without its deletes, with the records it came from. */
async function rebuildDeleted (ids: ReadonlySet<string>, source: ExportSource, view: FarmView): Promise<Map<string, { view: JobView, records: FarmRecords }>> {
  const rebuilt = new Map<string, { view: JobView, records: FarmRecords }>()
  if (ids.size === 0) return rebuilt
  const eventsByJob = new Map<string, VerifiedEvent[]>()
  for await (const verified of source.allEvents()) {
    const job = jobOf(verified)
    if (job === null || !ids.has(job) || verified.event.body.type === 'job.deleted') continue
    const events = eventsByJob.get(job)
    if (events === undefined) eventsByJob.set(job, [verified])
    else events.push(verified)
  }
  const { roles } = source.records()
  for (const [id, events] of eventsByJob) {
    const records: FarmRecords = { ...reduce(events), roles }
    const [job] = new FarmViewCache(records, { founder: view.founder }).view().jobs
    if (job !== undefined) rebuilt.set(id, { view: job, records })
  }
  return rebuilt
}

function pushRows (tables: Map<TableName, Row[]>, table: TableName, rows: readonly Row[]): void {
  const list = tables.get(table)
  if (list === undefined) tables.set(table, [...rows])
  else for (const row of rows) list.push(row)
}

/**
 * The change from `since` (null: an empty destination) to the source's state now.
 * `exportedAt` is passed in, as the clock is.
 */
export async function buildChange (source: ExportSource, since: VersionVector | null, exportedAt: number): Promise<ReportChange> {
  // Taken together, before any await, so rows and vector describe one state.
  const view = source.view()
  const records = source.records()
  const vector = source.versionVector()
  const touched = await readTouched(since === null ? source.allEvents() : source.eventsBetween(since, vector), since === null)
  const live = new Map(view.jobs.map((job) => [job.id, job]))
  const jobIds = touched.jobs === 'all' ? Object.keys(records.jobs) : [...touched.jobs]
  const rebuilt = await rebuildDeleted(deletedAmong(jobIds, records, live), source, view)

  const tables = new Map<TableName, Row[]>()
  const removals: TableKeys[] = []
  const framesReplaced: Row[] = []
  for (const id of jobIds) {
    const liveJob = live.get(id)
    const deleted = rebuilt.get(id)
    const record = (deleted?.records ?? records).jobs[id]
    const job = liveJob ?? deleted?.view
    if (job === undefined || record === undefined) continue
    const rows = jobRows(job, record, liveJob === undefined)
    pushRows(tables, 'constellationJobTable', [rows.job])
    pushRows(tables, 'constellationBlockTable', rows.blocks)
    pushRows(tables, 'constellationFrameTable', rows.frames)
    // A finish can stop counting (its author's role revoked): its frames must go too.
    if (since !== null) framesReplaced.push({ jobUuid: id })
  }
  if (framesReplaced.length > 0) removals.push({ table: 'constellationFrameTable', keys: framesReplaced })
  pushRows(tables, 'constellationClientTable', view.nodes.map(clientRow))
  pushRows(tables, 'constellationLogTable', touched.logs)
  const upserts: TableRows[] = [...tables].map(([table, rows]) => ({ table, rows }))
  return { upserts, removals, vector, exportedAt }
}
