/**
 * The worker thread of sqlite-build.ts: builds a first export's SQLite file from the rows
 * it is sent, in one transaction. It opens the file and creates the tables at once, writes
 * each batch as it arrives (acknowledging it, which is the sender's back-pressure), builds
 * indexes when told a table is (nearly) complete, and on `finish` builds the rest, writes
 * schema_version and commits. Its first failure is reported and ends its work; the sender
 * then discards the file.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import type { DatabaseSync } from 'node:sqlite'
import { createIndexes, tableStatements, viewStatements } from './ddl.js'
import { ALL_TABLES, tableNamed, type TableName } from './schema.js'
import type { BuildFailure, BuildReply, BuildRequest, BuildSetup } from './sqlite-build.js'
import { unpackedCells } from './packed-rows.js'
import { connect, Statements } from './sqlite-statements.js'

function failureOf (error: unknown): BuildFailure {
  if (!(error instanceof Error)) return { message: String(error) }
  const { errcode, errstr, code } = error as Error & Partial<Record<'errcode' | 'errstr' | 'code', unknown>>
  return {
    message: error.message,
    ...(typeof errcode === 'number' ? { errcode } : {}),
    ...(typeof errstr === 'string' ? { errstr } : {}),
    ...(typeof code === 'string' ? { code } : {})
  }
}

class Build {
  private readonly statements: Statements
  private readonly indexed = new Set<TableName>()

  constructor (private readonly db: DatabaseSync) {
    db.exec('BEGIN')
    for (const sql of tableStatements('sqlite')) db.exec(sql)
    this.statements = new Statements(db)
  }

  /** Does what `request` asks: true once the file is committed and closed. */
  handle (request: BuildRequest): boolean {
    switch (request.kind) {
      case 'rows': {
        const table = tableNamed(request.table)
        this.statements.writeCells('insert', table, unpackedCells(table, request.packed))
        return false
      }
      case 'index':
        for (const table of request.tables) this.index(table)
        return false
      case 'finish':
        this.statements.markDeleted(request.markedDeleted)
        this.statements.versionRow(request.vector, request.exportedAt)
        for (const table of ALL_TABLES) this.index(table.name)
        for (const sql of viewStatements('sqlite')) this.db.exec(sql)
        this.db.exec('COMMIT')
        this.db.close()
        return true
    }
  }

  /** After a failure: the file is discarded, so nothing is rolled back, only closed. */
  abandon (): void {
    if (this.db.isOpen) this.db.close()
  }

  private index (table: TableName): void {
    if (this.indexed.has(table)) return
    this.indexed.add(table)
    for (const sql of createIndexes('sqlite', tableNamed(table))) this.db.exec(sql)
  }
}

function opened (setup: BuildSetup): Build {
  const db = connect(setup.path, setup.options, setup.pragmas)
  try {
    return new Build(db)
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * Serves one build until it is finished or failed, then ignores what else arrives: the
 * sender terminates this thread once it has heard either (closing the port from here
 * could race the last reply).
 */
function serve (port: MessagePort, setup: BuildSetup): void {
  const reply = (message: BuildReply): void => { port.postMessage(message) }
  let build: Build | null = null
  try {
    build = opened(setup)
  } catch (error) {
    reply({ kind: 'failed', failure: failureOf(error) })
  }
  port.on('message', (request: BuildRequest) => {
    const current = build
    if (current === null) return
    try {
      if (current.handle(request)) {
        build = null
        reply({ kind: 'finished' })
      } else if (request.kind === 'rows') {
        reply({ kind: 'applied' })
      }
    } catch (error) {
      current.abandon()
      build = null
      reply({ kind: 'failed', failure: failureOf(error) })
    }
  })
}

if (parentPort === null) throw new Error('sqlite-build-worker runs as a worker thread of sqlite-build.ts')
serve(parentPort, workerData as BuildSetup)
