/**
 * A first export into a SQLite file of its own, written on a worker thread
 * (sqlite-build-worker.ts): SQLite binding, inserting and indexing a million rows take
 * as long as reading and decoding the log that yields them, and on a thread of their own
 * the two overlap instead of adding up. This side hands the worker rows packed
 * (packed-rows.ts), a batch at a time, and waits only when it is BUILD_BATCHES_AHEAD batches ahead of the worker,
 * so memory stays bounded however large the farm.
 */
import { Worker } from 'node:worker_threads'
import { programPath, RUNS_FROM_SOURCES } from '../install-paths.js'
import type { VersionVector } from '../protocol/version-vector.js'
import type { PackedRows } from './packed-rows.js'
import type { TableName } from './schema.js'
import type { SqliteSinkOptions } from './sqlite-statements.js'

/** What the worker opens: a new file, built without a journal (a failure discards it). */
export interface BuildSetup {
  readonly path: string
  readonly options: SqliteSinkOptions
  readonly pragmas: readonly string[]
}

export type BuildRequest =
  | { readonly kind: 'rows', readonly table: TableName, readonly packed: PackedRows }
  /** Tables whose rows are (nearly) all in: their indexes are built now, while later rows are still being read. */
  | { readonly kind: 'index', readonly tables: readonly TableName[] }
  /** The rest of the indexes, the views, schema_version, then the commit. */
  | { readonly kind: 'finish', readonly markedDeleted: readonly string[], readonly vector: VersionVector, readonly exportedAt: number }

/** A failure as it crosses threads: structured cloning keeps an Error's message but not SQLite's codes. */
export interface BuildFailure {
  readonly message: string
  readonly errcode?: number
  readonly errstr?: string
  readonly code?: string
}

export type BuildReply =
  | { readonly kind: 'applied' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed', readonly failure: BuildFailure }

/** Batches of rows sent but not yet written: enough to keep the worker busy, few enough to hold. */
const BUILD_BATCHES_AHEAD = 4

const WORKER_SCRIPT = programPath('report/sqlite-build-worker')
/** From the sources, the worker needs the TypeScript loader too. */
const WORKER_EXEC_ARGV = RUNS_FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : []

/** The failure again as an Error carrying the codes the sink turns into a reason. */
function revived (failure: BuildFailure): Error {
  const { message, ...codes } = failure
  return Object.assign(new Error(message), codes)
}

export class SqliteBuild {
  private readonly worker: Worker
  private failure: Error | null = null
  private ahead = 0
  private resumeSender: (() => void) | null = null
  private readonly finished = Promise.withResolvers<undefined>()

  constructor (setup: BuildSetup) {
    this.worker = new Worker(WORKER_SCRIPT, { workerData: setup, execArgv: WORKER_EXEC_ARGV })
    this.worker.on('message', (reply: BuildReply) => { this.heard(reply) })
    this.worker.on('error', (error: Error) => { this.fail(error) })
    this.worker.on('exit', (code) => { this.fail(new Error(`the SQLite writer thread exited (code ${code}) before the export was committed`)) })
    // Nobody may be waiting on `finished` when the worker fails early: rows() reports it instead.
    this.finished.promise.catch(() => undefined)
  }

  /** Queues a table's rows, handing over `packed`'s arrays; resolves once the worker is few enough batches behind to take more. */
  async rows (table: TableName, packed: PackedRows): Promise<void> {
    this.send({ kind: 'rows', table, packed }, [packed.textLengths.buffer, packed.numbers.buffer, packed.numberNulls.buffer])
    this.ahead++
    while (this.ahead >= BUILD_BATCHES_AHEAD && this.failure === null) {
      await new Promise<void>((resolve) => { this.resumeSender = resolve })
    }
    if (this.failure !== null) throw this.failure
  }

  index (tables: readonly TableName[]): void {
    this.send({ kind: 'index', tables })
  }

  /** Commits the file; resolves once it is closed, complete, on disk. */
  async finish (request: Omit<Extract<BuildRequest, { kind: 'finish' }>, 'kind'>): Promise<void> {
    this.send({ kind: 'finish', ...request })
    await this.finished.promise
  }

  /** Stops the worker, whatever it was doing (the caller discards the file). */
  async stop (): Promise<void> {
    this.worker.removeAllListeners('exit')
    await this.worker.terminate()
  }

  private send (request: BuildRequest, transfer: readonly ArrayBuffer[] = []): void {
    if (this.failure !== null) throw this.failure
    this.worker.postMessage(request, transfer)
  }

  private heard (reply: BuildReply): void {
    if (reply.kind === 'failed') {
      this.fail(revived(reply.failure))
      return
    }
    if (reply.kind === 'finished') {
      this.finished.resolve(undefined)
      return
    }
    this.ahead--
    this.wake()
  }

  private fail (error: Error): void {
    this.failure ??= error
    this.finished.reject(this.failure)
    this.wake()
  }

  private wake (): void {
    const resume = this.resumeSender
    this.resumeSender = null
    resume?.()
  }
}
