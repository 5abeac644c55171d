/**
 * `cr tui` (and `cr` alone on a terminal): the artist's live monitor. A controller that
 * stays on the mesh, with the same connection flags as every other command; its records
 * go to a file in the data directory while the screen is the TUI's.
 */
import type { Command } from 'commander'
import { DEFAULT_MDNS_SERVICE_TAG } from '../node/mesh/config.js'
import { logFileIn } from '../tui/log-file.js'
import { runTui } from '../tui/run-tui.js'
import type { LocalEndpoint } from '../node/local/endpoint.js'
import { controllerFor, farmOf, serveDataDir, timeoutOf, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'

export function addTuiCommand (program: Command): void {
  withConnectionOptions(program.command('tui'))
    .description('the live monitor: jobs, blocks, nodes and logs as they change, with keys to steer them (cr alone on a terminal opens it too)')
    .action(async (options: ConnectionOptions) => {
      if (!process.stdout.isTTY || !process.stdin.isTTY) throw new UsageError('cr tui', 'needs a terminal; use cr jobs, cr nodes or cr logs --follow in scripts')
      const timeoutMs = timeoutOf(options)
      const logs = await logFileIn(options.dataDir)
      const logger = logs.logger('cr-tui')
      const controller = controllerFor(options, logger)
      let endpoint: LocalEndpoint | null = null
      try {
        await controller.open()
        // cr commands in other terminals with this data directory read and write through the TUI.
        endpoint = await serveDataDir(controller, options, await farmOf(options), { reachedPeer: () => controller.connectedPeers().length > 0, ready: Promise.resolve() }, logger)
        await runTui({ controller, logger, farm: options.mdnsTag ?? DEFAULT_MDNS_SERVICE_TAG, logFile: logs.file, timeoutMs })
      } finally {
        await endpoint?.close()
        await controller.close()
        await logs.close()
      }
    })
}
