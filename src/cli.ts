/**
 * The `cr` command: one entry point, thin. Each command parses its flags and calls into
 * src/node; what it prints is for people unless `--json` asks for a script's view.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Command, CommanderError } from 'commander'
import { loadOrCreateIdentity } from './node/identity.js'
import { defaultDataDir } from './node/config/node-config.js'
import { writeSwarmKey } from './node/mesh/swarm-key.js'
import { exitCodeOf } from './cli/exit.js'
import { addJobsCommands } from './cli/jobs.js'
import { addLogsCommand } from './cli/logs.js'
import { addNodeSettingsCommands, addNodesCommand } from './cli/nodes.js'
import { addSubmitCommand } from './cli/submit.js'
import { addTuiCommand } from './cli/tui.js'
import { addDemoCommand } from './cli/demo.js'
import { addExportCommands } from './cli/export.js'
import { addRunNodeCommand } from './cli/run-node.js'
import { addServiceCommands } from './cli/service.js'
import { addStoreCommands } from './cli/store.js'
import { dataDirOption } from './cli/connection.js'
import { addWhoamiCommand, addWranglerCommands } from './cli/wrangler.js'

async function packageVersion (): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

function addKeyCommands (program: Command): void {
  const key = program.command('key').description('the studio\'s swarm key: only machines holding it can join the mesh')
  key.command('generate')
    .description('write a new swarm key naming this machine\'s identity as the farm\'s founder; copy the file to every machine of the farm')
    .argument('[file]', 'where to write it', path.join(defaultDataDir(), 'swarm.key'))
    .addOption(dataDirOption('the founder\'s identity: this data directory\'s (made if missing)'))
    .option('--force', 'replace an existing key (every machine then needs the new one)')
    .action(async (file: string, options: { force?: boolean, dataDir: string }) => {
      const founder = peerIdFromPrivateKey(await loadOrCreateIdentity(options.dataDir)).toString()
      await writeSwarmKey(file, { overwrite: options.force === true, founder })
      console.log(`wrote a new swarm key to ${file} (readable by its owner only)`)
      console.log(`the farm's founder is ${founder}, the identity in ${options.dataDir}: cr commands run with that data directory may grant the wrangler role (cr wrangler add)`)
      console.log('copy the key to every render node and artist machine, and point their config at it (swarmKeyFile)')
    })
}

export async function main (argv: readonly string[]): Promise<void> {
  const program = new Command('cr')
    .description('Constellation Render: a render farm with no master')
    .version(await packageVersion())
    .exitOverride()
  addKeyCommands(program)
  addStoreCommands(program)
  addSubmitCommand(program)
  addJobsCommands(program)
  addNodesCommand(program)
  const node = program.command('node').description('run this machine as a render node, or edit a node\'s entry in the client table')
  addRunNodeCommand(node)
  addNodeSettingsCommands(node)
  addLogsCommand(program)
  addExportCommands(program)
  addServiceCommands(program)
  addWranglerCommands(program)
  addWhoamiCommand(program)
  addDemoCommand(program)
  addTuiCommand(program)
  // `cr` alone on a terminal is the artist's monitor; anywhere else it prints help and exits 2.
  const interactive = argv.length <= 2 && process.stdin.isTTY && process.stdout.isTTY
  try {
    await program.parseAsync(interactive ? [...argv, 'tui'] : argv)
  } catch (error) {
    process.exitCode = exitCodeOf(error)
    // Commander has printed its own usage errors and help.
    if (!(error instanceof CommanderError)) console.error(`cr: ${(error as Error).message}`)
  }
}
