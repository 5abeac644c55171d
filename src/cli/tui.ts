/**
 * `cr tui` (and `cr` alone on a terminal): the artist's live monitor. A controller that
 * stays on the mesh, with the same connection flags as every other command; its records
 * go to a file in the data directory while the screen is the TUI's.
 */
import type { Command } from 'commander'
import { DEFAULT_MDNS_SERVICE_TAG } from '../node/mesh/config.js'
import { logFileIn } from '../tui/log-file.js'
import { runTui } from '../tui/run-tui.js'
import { controllerFor, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'

export function addTuiCommand (program: Command): void {
  withConnectionOptions(program.command('tui'))
    .description('the live monitor: jobs, blocks, nodes and logs as they change, with keys to steer them (cr alone on a terminal opens it too)')
    .action(async (options: ConnectionOptions) => {
      if (!process.stdout.isTTY || !process.stdin.isTTY) throw new UsageError('cr tui', 'needs a terminal; use cr jobs, cr nodes or cr logs --follow in scripts')
      const seconds = Number(options.timeout)
      if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--timeout', `must be a positive number of seconds, not ${JSON.stringify(options.timeout)}`)
      const logs = await logFileIn(options.dataDir)
      const logger = logs.logger('cr-tui')
      const controller = controllerFor(options, logger)
      try {
        await controller.open()
        await runTui({ controller, logger, farm: options.mdnsTag ?? DEFAULT_MDNS_SERVICE_TAG, logFile: logs.file, timeoutMs: seconds * 1000 })
      } finally {
        await controller.close()
        await logs.close()
      }
    })
}
