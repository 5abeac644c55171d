/**
 * `cr node [run]`: runs this machine as a render node until SIGTERM or Ctrl+C, which
 * release (or, by config, finish) the block it holds so another node takes it at once.
 * Flags override the config file; see docs/node.example.toml.
 */
import type { Command } from 'commander'
import { loadNodeConfig } from '../node/config/node-config.js'
import { assertDataDir } from '../node/identity.js'
import { farmFingerprint, LocalEndpoint } from '../node/local/endpoint.js'
import { renderNodeFarm } from '../node/local/render-node-farm.js'
import { createLogger } from '../node/log.js'
import { readFarmKey } from '../node/mesh/swarm-key.js'
import { installProcessGuard } from '../node/runtime/process-guard.js'
import { RenderNode } from '../node/runtime/render-node.js'
import { storeDirOf } from '../node/store/event-store.js'
import { storeOpenFailure } from '../node/store/errors.js'

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
      // Checked before the node starts, which makes an identity first: a data dir that is
      // a file, or a key that is missing or garbage, must leave nothing behind.
      await assertDataDir(config.dataDir)
      const { psk } = await readFarmKey(config.swarmKeyFile)
      // A long-running node outlives a bug: faults are logged and fail the block, not the process.
      const removeGuard = installProcessGuard(createLogger('process'))
      // Listening from the first moment: a node can wait long for its peers (recovery), and a
      // stop asked for then must end the wait cleanly, before anything of ours is written.
      const starting = new AbortController()
      let stopDone: { resolve: () => void, reject: (error: unknown) => void } | undefined
      const stopped = new Promise<void>((resolve, reject) => { stopDone = { resolve, reject } })
      let running: RenderNode | undefined
      let endpoint: LocalEndpoint | null = null
      const stop = (signal: NodeJS.Signals): void => {
        if (running === undefined) {
          console.log(`${signal}: stopping before the node started; it wrote nothing`)
          starting.abort(new Error(`${signal} before the node started`))
          return
        }
        console.log(`${signal}: ${config.render.onShutdown === 'finish' ? 'finishing the block, then stopping' : 'releasing the block and stopping'}`)
        // A stop that fails ends the command with its error (printed, exit code set by main), not silently.
        running.stop().then(() => { stopDone?.resolve() }, (error: unknown) => { stopDone?.reject(error) })
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
      try {
        try {
          running = await RenderNode.start(config, { signal: starting.signal, onFatal: (error) => { stopDone?.reject(error) } })
        } catch (error) {
          if (starting.signal.aborted) return
          throw storeOpenFailure(storeDirOf(config.dataDir), error)
        }
        // Commands on this machine read the node's live copy and write through it, with no mesh of their own.
        const localLogger = createLogger('local')
        endpoint = await LocalEndpoint.open(config.dataDir, renderNodeFarm(running, farmFingerprint(psk), localLogger), localLogger)
        console.log(`${config.name} is rendering for the farm as ${running.peerId}`)
        console.log(`listening on ${running.mesh.addresses().join(', ')}`)
        await stopped
      } finally {
        await endpoint?.close()
        process.off('SIGTERM', stop)
        process.off('SIGINT', stop)
        removeGuard()
      }
    })
}
