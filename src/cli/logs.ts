/**
 * `cr logs` (Log Report, the seed's constellationLogTable): what happened to jobs and on
 * nodes, with the renderer's output under the row it belongs to. `--follow` keeps the
 * controller on the mesh and prints each new row as it arrives, until Ctrl+C.
 */
import type { Command } from 'commander'
import type { FarmReads } from '../node/controller/farm-reads.js'
import { findJob, findNode } from '../node/controller/resolve.js'
import { HolderGoneError } from '../node/local/errors.js'
import type { LogEntry } from '../protocol/logs.js'
import { inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { localTime, printable, shortIdOf } from './format.js'
import { untilInterrupted } from './interrupted.js'
import { peerName } from './nodes.js'

interface LogsOptions extends ConnectionOptions {
  readonly job?: string
  readonly node?: string
  readonly follow?: boolean
  readonly json?: boolean
}

export function addLogsCommand (program: Command): void {
  withConnectionOptions(program.command('logs'))
    .description('the log report: what happened to jobs and on nodes, with the renderer\'s output')
    .option('--job <job>', 'only this job (id, short id, unique prefix or name)')
    .option('--node <node>', 'only rows written by this node (name or peer id)')
    .option('-f, --follow', 'keep printing new rows as they arrive, until Ctrl+C')
    .option('--json', 'print one JSON object per row and line')
    .action(async (options: LogsOptions) => {
      // Each row once, even across a follow that moves on to another holder of the data dir.
      const printed = new Set<string>()
      const interrupted = options.follow === true ? untilInterrupted() : undefined
      for (;;) {
        try {
          await inSession(options, 'read', async ({ controller }) => {
            const view = controller.view()
            const filter = {
              ...(options.job === undefined ? {} : { jobId: findJob(view, options.job).id }),
              ...(options.node === undefined ? {} : { node: findNode(view, options.node).id })
            }
            const print = (entry: LogEntry): void => {
              if (printed.has(entry.id)) return
              printed.add(entry.id)
              console.log(options.json === true ? JSON.stringify(rowOf(controller, entry)) : lineOf(controller, entry))
            }
            if (interrupted === undefined) {
              for (const entry of await controller.logs(filter)) print(entry)
              return
            }
            // Subscribe first, so no row falls between the report and the stream.
            const stop = controller.followLogs(filter, print)
            for (const entry of await controller.logs(filter)) print(entry)
            await interrupted
            stop()
          })
          return
        } catch (error) {
          // The command this follow was answered through ended: follow on through whoever holds the data dir now.
          if (interrupted !== undefined && error instanceof HolderGoneError) continue
          throw error
        }
      }
    })
}

/** A row of the seed's log table as scripts get it. */
interface LogRow {
  readonly id: string
  /** The name the row gives, else who wrote it: a node's name, or the user an artist's machine submits as. */
  readonly clientName: string
  readonly node: string
  readonly jobId: string | null
  readonly jobShortId: string | null
  readonly block: number | null
  readonly description: string
  readonly registeredAt: number
  readonly outputTail: readonly string[]
}

function rowOf (controller: FarmReads, entry: LogEntry): LogRow {
  return {
    id: entry.id,
    clientName: entry.clientName ?? peerName(controller.view(), entry.node),
    node: entry.node,
    jobId: entry.jobId,
    jobShortId: entry.jobId === null ? null : shortIdOf(entry.jobId),
    block: entry.block,
    description: entry.description,
    registeredAt: entry.registeredAt,
    outputTail: entry.outputTail
  }
}

function lineOf (controller: FarmReads, entry: LogEntry): string {
  const row = rowOf(controller, entry)
  // Names and a renderer's output lines may hold terminal escapes: shown, never acted on.
  const head = `${localTime(row.registeredAt)}  ${printable(row.clientName).padEnd(12)}  ${(row.jobShortId ?? '-').padEnd(8)}  ${printable(row.description)}`
  return [head, ...row.outputTail.map((line) => `    | ${printable(line)}`)].join('\n')
}
