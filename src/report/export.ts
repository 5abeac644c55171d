/**
 * One export run: read what the destination reflects, build the change from there to
 * the source's state, and apply it in one transaction. `followExport` then keeps the
 * destination a live mirror, applying what arrives in small batches.
 */
import { missingFrom, type VersionVector } from '../protocol/version-vector.js'
import { buildChange } from './change.js'
import { DestinationAheadError } from './errors.js'
import type { ReportChange, ReportSink, TableRows } from './sink.js'
import type { ExportSource, LiveSource } from './source.js'

export interface ExportSummary {
  readonly kind: 'full' | 'incremental'
  readonly rows: number
  readonly vector: VersionVector
}

/** The same batches, each counted by `count` as the sink reads it. */
async function * counted (batches: ReportChange['upserts'], count: (batch: TableRows) => void): AsyncGenerator<TableRows> {
  for await (const batch of batches) {
    count(batch)
    yield batch
  }
}

/** Brings an opened sink to the source's state; `since`: what the sink reflects now (null: empty). */
async function exportFrom (source: ExportSource, sink: ReportSink, since: VersionVector | null, now: () => number): Promise<ExportSummary> {
  if (since !== null) {
    const ahead = missingFrom(source.versionVector(), since).map((range) => range.author)
    if (ahead.length > 0) throw new DestinationAheadError(sink.destination, ahead)
  }
  const change = await buildChange(source, since, now())
  let rows = 0
  await sink.apply({ ...change, upserts: counted(change.upserts, (batch) => { rows += batch.rows.length }) })
  return { kind: since === null ? 'full' : 'incremental', rows, vector: change.vector }
}

/** Opens the sink, exports once (full or incremental) and leaves it open for the caller to close. */
export async function exportOnce (source: ExportSource, sink: ReportSink, now: () => number): Promise<ExportSummary> {
  const state = await sink.open()
  return exportFrom(source, sink, state.kind === 'exported' ? state.vector : null, now)
}

/** How long new events gather before one transaction applies them. */
export const FOLLOW_BATCH_MS = 100

export interface Follower {
  /** Applies what already arrived, resolves once that is committed; idempotent. */
  stop: () => Promise<void>
  /** Batches applied so far, for tests and progress lines. */
  readonly batches: () => number
}

/**
 * Applies new events as they arrive, batched over FOLLOW_BATCH_MS, one transaction per
 * batch; `onError` hears a batch that failed (the destination then is as before it).
 */
export function followExport (source: LiveSource, sink: ReportSink, start: VersionVector, options: { now: () => number, onBatch?: (summary: ExportSummary) => void, onError: (error: unknown) => void }): Follower {
  let reflected = start
  let timer: NodeJS.Timeout | null = null
  let inFlight: Promise<void> = Promise.resolve()
  let stopped = false
  let applied = 0
  const flush = (): void => {
    timer = null
    inFlight = inFlight.then(async () => {
      const summary = await exportFrom(source, sink, reflected, options.now)
      reflected = summary.vector
      applied++
      options.onBatch?.(summary)
    }).catch(options.onError)
  }
  const unsubscribe = source.onAppended(() => {
    timer ??= setTimeout(flush, FOLLOW_BATCH_MS)
  })
  return {
    batches: () => applied,
    async stop () {
      if (stopped) return
      stopped = true
      unsubscribe()
      // What already arrived goes in one last batch rather than being left out.
      if (timer !== null) {
        clearTimeout(timer)
        flush()
      }
      await inFlight
    }
  }
}
