/**
 * The `cr` command: one entry point, thin. Each command parses its flags and calls into
 * src/node; what it prints is for people unless `--json` asks for a script's view.
 * Commands whose modules load what the others never use are imported only when they run
 * (see COMMANDS), so a render node, which runs for weeks, never holds Ink, React or the
 * SQL drivers in memory.
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
import { addRunNodeCommand } from './cli/run-node.js'
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

function addNodeCommands (program: Command): void {
  const node = program.command('node').description('run this machine as a render node, or edit a node\'s entry in the client table')
  addRunNodeCommand(node)
  addNodeSettingsCommands(node)
}

type AddCommands = (program: Command) => void

/** A top-level command whose module is imported only when it is needed. */
interface OnDemand {
  readonly name: string
  readonly load: () => Promise<AddCommands>
}

/** Every command, in the order help lists them; those with a name and a loader bring Ink and React (tui, demo), the SQL drivers (export) or execa (service). */
const COMMANDS: readonly (AddCommands | OnDemand)[] = [
  addKeyCommands, addStoreCommands, addSubmitCommand, addJobsCommands, addNodesCommand, addNodeCommands, addLogsCommand,
  { name: 'export', load: async () => (await import('./cli/export.js')).addExportCommands },
  { name: 'service', load: async () => (await import('./cli/service.js')).addServiceCommands },
  addWranglerCommands, addWhoamiCommand,
  { name: 'demo', load: async () => (await import('./cli/demo.js')).addDemoCommand },
  { name: 'tui', load: async () => (await import('./cli/tui.js')).addTuiCommand }
]

/**
 * Which on-demand commands to load for a command line whose first operand is `named`: all
 * of them when nothing is named or help is asked for (help lists every command), the named
 * one alone, or none for any other command.
 */
function onDemandFor (named: string | undefined): (entry: OnDemand) => boolean {
  if (named === undefined || named === 'help') return () => true
  return (entry) => entry.name === named
}

/** Registers the commands `wanted` selects; the others stay unimported. */
async function addCommands (program: Command, wanted: (entry: OnDemand) => boolean): Promise<void> {
  for (const entry of COMMANDS) {
    if (typeof entry === 'function') entry(program)
    else if (wanted(entry)) (await entry.load())(program)
  }
}

function hasCommand (program: Command, name: string): boolean {
  return program.commands.some((command) => command.name() === name || command.aliases().includes(name))
}

export async function main (argv: readonly string[]): Promise<void> {
  const program = new Command('cr')
    .description('Constellation Render: a render farm with no master')
    .version(await packageVersion())
    .exitOverride()
  // `cr` alone on a terminal is the artist's monitor; anywhere else it prints help and exits 2.
  const interactive = argv.length <= 2 && process.stdin.isTTY && process.stdout.isTTY
  const args = interactive ? [...argv, 'tui'] : argv
  // The program's own options (--version, --help) are the only ones before the command.
  const named = args.slice(2).find((arg) => !arg.startsWith('-'))
  await addCommands(program, onDemandFor(named))
  // A mistyped command: commander suggests the nearest name, so it needs them all.
  if (named !== undefined && !hasCommand(program, named)) {
    for (const entry of COMMANDS) if (typeof entry !== 'function' && !hasCommand(program, entry.name)) (await entry.load())(program)
  }
  try {
    await program.parseAsync(args)
  } catch (error) {
    process.exitCode = exitCodeOf(error)
    // Commander has printed its own usage errors and help.
    if (!(error instanceof CommanderError)) console.error(`cr: ${(error as Error).message}`)
  }
}
