/**
 * `cr node [run]`: runs this machine as a render node until SIGTERM or Ctrl+C, which
 * release (or, by config, finish) the block it holds so another node takes it at once.
 * Flags override the config file; see docs/node.example.toml.
 */
import type { Command } from 'commander'
import { loadNodeConfig } from '../node/config/node-config.js'
import { RenderNode } from '../node/runtime/render-node.js'

interface RunNodeFlags {
  readonly config?: string
  readonly name?: string
  readonly dataDir?: string
  readonly scratchDir?: string
  readonly swarmKey?: string
  readonly listen?: string[]
  readonly peer?: string[]
  readonly mdnsTag?: string
  readonly mdns: boolean
  readonly render: boolean
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** The flags as a partial config, nested like the file, so they merge over it. */
function overridesOf (flags: RunNodeFlags): Record<string, unknown> {
  const mesh: Record<string, unknown> = {}
  if (flags.listen !== undefined) mesh.listen = flags.listen
  if (flags.peer !== undefined) mesh.bootstrapPeers = flags.peer
  if (flags.mdnsTag !== undefined || !flags.mdns) mesh.mdns = { ...(flags.mdnsTag === undefined ? {} : { serviceTag: flags.mdnsTag }), ...(flags.mdns ? {} : { enabled: false }) }
  return {
    name: flags.name,
    dataDir: flags.dataDir,
    scratchDir: flags.scratchDir,
    swarmKeyFile: flags.swarmKey,
    ...(flags.render ? {} : { render: { enabled: false } }),
    ...(Object.keys(mesh).length === 0 ? {} : { mesh })
  }
}

export function addRunNodeCommand (node: Command): void {
  node.command('run', { isDefault: true })
    .description('run this machine as a render node (the default of `cr node`)')
    .option('-c, --config <file>', 'the node\'s TOML config (see docs/node.example.toml)')
    .option('--name <name>', 'how artists see this machine (default: the host name)')
    .option('--data-dir <dir>', 'identity, event log and state')
    .option('--scratch-dir <dir>', 'local folder frames render into before the bulk copy')
    .option('--swarm-key <file>', 'the studio\'s swarm key (cr key generate)')
    .option('--listen <multiaddr>', 'address to listen on (repeatable)', collect)
    .option('--peer <multiaddr>', 'a peer to dial where multicast is blocked (repeatable)', collect)
    .option('--mdns-tag <tag>', 'the mDNS service tag peers meet under')
    .option('--no-mdns', 'do not announce or look for peers by mDNS')
    .option('--no-render', 'join the farm without ever rendering')
    .action(async (flags: RunNodeFlags) => {
      const config = await loadNodeConfig(flags.config, overridesOf(flags))
      const running = await RenderNode.start(config)
      console.log(`${config.name} is rendering for the farm as ${running.peerId}`)
      console.log(`listening on ${running.mesh.addresses().join(', ')}`)
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          console.log(`${signal}: ${config.render.onShutdown === 'finish' ? 'finishing the block, then stopping' : 'releasing the block and stopping'}`)
          running.stop().then(resolve, resolve)
        }
        process.once('SIGTERM', stop)
        process.once('SIGINT', stop)
      })
    })
}
