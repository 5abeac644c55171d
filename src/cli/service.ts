/**
 * `cr service install|uninstall|status` (seed: Service Client): the node as a system
 * service that keeps rendering while nobody is logged in, as a dedicated user (never
 * root unless `--allow-root`; see src/node/service/account.ts).
 */
import { execa } from 'execa'
import path from 'node:path'
import type { Command } from 'commander'
import { loadNodeConfig } from '../node/config/node-config.js'
import { DEFAULT_SERVICE_USER, ServiceAccountError, serviceAccountFor } from '../node/service/account.js'
import { serviceManagerFor, type CommandRunner, type ServicePlatform } from '../node/service/manager.js'
import { CR_ENTRY_POINT } from '../install-paths.js'
import { UsageError } from './exit.js'

/** How long the OS waits for a node that releases its block, or finishes it. */
const STOP_TIMEOUT_RELEASE_S = 30
const STOP_TIMEOUT_FINISH_S = 6 * 60 * 60

const run: CommandRunner = async (file, args) => {
  const result = await execa(file, args, { reject: false, all: true })
  return { exitCode: result.exitCode ?? 1, stdout: result.all }
}

function platform (): ServicePlatform {
  if (process.platform === 'linux' || process.platform === 'darwin' || process.platform === 'win32') return process.platform
  throw new UsageError('cr service', `no service manager known for ${process.platform}; run \`cr node\` under your own supervisor`)
}

async function managerFor (configFile: string) {
  const config = await loadNodeConfig(configFile)
  return { config, manager: serviceManagerFor(platform(), { root: path.parse(process.cwd()).root, run }, config.dataDir) }
}

/** The account the service will run as, refused (nothing written) when it is root or missing. */
async function accountFor (flags: { user?: string, allowRoot?: boolean }, dataDir: string) {
  try {
    return await serviceAccountFor(platform(), { ...(flags.user === undefined ? {} : { user: flags.user }), allowRoot: flags.allowRoot === true, dataDir }, run)
  } catch (error) {
    if (!(error instanceof ServiceAccountError)) throw error
    throw new UsageError(flags.user === undefined ? 'cr service install' : '--user', error.why)
  }
}

export function addServiceCommands (program: Command): void {
  const service = program.command('service').description('run the node as a system service (systemd, launchd, or WinSW on Windows)')
  service.command('install')
    .description('write the service definition, enable it and start it (as root / Administrator)')
    .requiredOption('-c, --config <file>', 'the node\'s TOML config, by absolute path')
    .option('--user <account>', `the account the service runs as (default on Linux and macOS: ${DEFAULT_SERVICE_USER}; on Windows: LocalSystem)`)
    .option('--allow-root', 'let the service run as root, with full control of the machine')
    .action(async (flags: { config: string, user?: string, allowRoot?: boolean }) => {
      const configFile = path.resolve(flags.config)
      const { config, manager } = await managerFor(configFile)
      const account = await accountFor(flags, config.dataDir)
      const report = await manager.install({
        nodePath: process.execPath,
        crPath: CR_ENTRY_POINT,
        configFile,
        workingDirectory: config.dataDir,
        stopTimeoutSec: config.render.onShutdown === 'finish' ? STOP_TIMEOUT_FINISH_S : STOP_TIMEOUT_RELEASE_S,
        ...account
      })
      for (const line of report) console.log(line)
    })
  service.command('uninstall')
    .description('stop and remove the service')
    .requiredOption('-c, --config <file>', 'the node\'s TOML config')
    .action(async (flags: { config: string }) => {
      const { manager } = await managerFor(path.resolve(flags.config))
      await manager.uninstall()
      console.log(`removed ${manager.definitionFile}`)
    })
  service.command('status')
    .description('whether the service is installed and running')
    .requiredOption('-c, --config <file>', 'the node\'s TOML config')
    .option('--json', 'print the status as JSON')
    .action(async (flags: { config: string, json?: boolean }) => {
      const { manager } = await managerFor(path.resolve(flags.config))
      const status = await manager.status()
      console.log(flags.json === true ? JSON.stringify(status) : `${status.installed ? 'installed' : 'not installed'}, ${status.running ? 'running' : 'not running'} (${status.detail})`)
    })
}
