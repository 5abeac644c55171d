/**
 * `cr export sqlite FILE`, `cr export sql FILE --dialect ...` (and `cr export postgres
 * URL`): the farm's report tables written into a database, from any peer. With the usual
 * connection flags the command joins the mesh as a read-only peer and catches up first;
 * with `--from <data-dir>` it reads a stopped node's store offline. src/report does the
 * work; this file only parses flags and opens the store.
 */
import path from 'node:path'
import { Option, type Command } from 'commander'
import { loadIdentity } from '../node/identity.js'
import { readFarmKey } from '../node/mesh/swarm-key.js'
import { storeDirOf } from '../node/store/event-store.js'
import { signerFromKey } from '../protocol/signing.js'
import { eventCount } from '../protocol/version-vector.js'
import { DIALECTS, type Dialect } from '../report/dialect.js'
import { createDumpSink } from '../report/dump.js'
import { createPostgresSink } from '../report/postgres.js'
import { exportOnce, followExport, type ExportSummary } from '../report/export.js'
import type { ReportSink } from '../report/sink.js'
import { liveStoreSource, storeSource, type StoreReads } from '../report/source.js'
import { createSqliteSink } from '../report/sqlite.js'
import { withStoreCopy } from '../report/store-copy.js'
import { inReplicaSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'
import { untilInterrupted } from './interrupted.js'

interface ExportOptions extends ConnectionOptions {
  /** A stopped node's data directory, read offline. */
  readonly from?: string
}

interface MirrorOptions extends ExportOptions {
  /** Stay on the mesh and apply each new event as it arrives. */
  readonly follow?: boolean
}

interface SqlOptions extends ExportOptions {
  readonly dialect: string
}

/**
 * The replica to export from: this machine's own copy, caught up on the mesh and read
 * while the session lasts, or with `--from` a stopped node's store, opened offline with
 * the farm's founder from its swarm key so wranglers' acts count as they do on the farm
 * (a copy of it, so the node's data dir is left exactly as it was).
 */
async function withReplica<T> (options: ExportOptions, work: (replica: StoreReads) => Promise<T>): Promise<T> {
  if (options.from === undefined) return inReplicaSession(options, async ({ controller }) => work(controller.replica()))
  const { founder } = await readFarmKey(options.swarmKey ?? path.join(options.from, 'swarm.key'))
  const signer = signerFromKey(await loadIdentity(options.from, { create: false }))
  return withStoreCopy(storeDirOf(options.from), signer, { authority: { founder } }, work)
}

async function runExport (options: ExportOptions, sink: ReportSink): Promise<void> {
  const summary = await withReplica(options, async (replica) => {
    try {
      return await exportOnce(storeSource(replica), sink, Date.now)
    } finally {
      await sink.close()
    }
  })
  console.log(describe(sink, summary))
}

/**
 * A live mirror: the export brings the database up to date, then each batch of new
 * events is one transaction, until Ctrl+C or SIGTERM, which commit what already arrived
 * and exit 0. A batch that fails leaves the database as it was and ends the command.
 */
async function runFollow (options: MirrorOptions, sink: ReportSink): Promise<void> {
  if (options.from !== undefined) throw new UsageError('--follow', 'follows the live farm on the mesh; a stopped node\'s store (--from) has nothing new to follow')
  await inReplicaSession(options, async ({ controller }) => {
    const source = liveStoreSource(controller.replica())
    try {
      const first = await exportOnce(source, sink, Date.now)
      console.log(`${describe(sink, first)}; following the farm until Ctrl+C`)
      // Resolves with the failed batch's error, or null on Ctrl+C or SIGTERM.
      let end: (failure: Error | null) => void = () => {}
      const ended = new Promise<Error | null>((resolve) => { end = resolve })
      const follower = followExport(source, sink, first.vector, {
        now: Date.now,
        onError: (error) => { end(error instanceof Error ? error : new Error(String(error))) }
      })
      untilInterrupted().then(() => { end(null) }, end)
      const failure = await ended
      await follower.stop()
      if (failure !== null) throw failure
    } finally {
      await sink.close()
    }
  })
}

async function mirror (options: MirrorOptions, sink: ReportSink): Promise<void> {
  await (options.follow === true ? runFollow(options, sink) : runExport(options, sink))
}

const followOption = (): Option => new Option('--follow', 'stay on the mesh and apply each new event as it arrives (a live mirror), until Ctrl+C')

function describe (sink: ReportSink, summary: ExportSummary): string {
  return `exported to ${sink.destination}: ${summary.kind}, ${summary.rows} rows written, reflecting ${eventCount(summary.vector)} events`
}

function dialectOf (text: string): Dialect {
  const dialect = DIALECTS.find((candidate) => candidate === text)
  if (dialect === undefined) throw new UsageError('--dialect', `must be one of ${DIALECTS.join(', ')}, not ${JSON.stringify(text)}`)
  return dialect
}

const fromOption = (): Option => new Option('--from <data-dir>', 'read a stopped node\'s store offline instead of joining the mesh')

export function addExportCommands (program: Command): void {
  const exporter = program.command('export').description('write the farm\'s report tables (jobs, blocks, frames, clients, log) into a SQL database')
  withConnectionOptions(exporter.command('sqlite'))
    .description('export into a SQLite file (created if missing; later runs write only what changed)')
    .argument('<file>', 'the SQLite database file')
    .addOption(fromOption())
    .addOption(followOption())
    .action(async (file: string, options: MirrorOptions) => {
      await mirror(options, createSqliteSink(file))
    })
  withConnectionOptions(exporter.command('postgres'))
    .description('export into a PostgreSQL database (schema created if missing; later runs write only what changed)')
    .argument('<url>', 'a libpq connection URL, such as postgres://report@db.studio/farm or postgres:///farm?host=/run/postgresql')
    .addOption(fromOption())
    .addOption(followOption())
    .action(async (url: string, options: MirrorOptions) => {
      await mirror(options, createPostgresSink(url))
    })
  withConnectionOptions(exporter.command('sql'))
    .description('write a plain SQL dump (DDL and INSERTs) that psql, mysql or sqlite3 loads')
    .argument('<file>', 'where to write the dump (replaced only once it is complete)')
    .addOption(new Option('--dialect <dialect>', 'the SQL dialect').choices(DIALECTS).default('postgres'))
    .addOption(fromOption())
    .action(async (file: string, options: SqlOptions) => {
      await runExport(options, createDumpSink(file, dialectOf(options.dialect)))
    })
}
