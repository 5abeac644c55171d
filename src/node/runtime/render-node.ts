/**
 * A render node: the identity, the store, the mesh and the agent driver of one machine,
 * started and stopped together. `cr node` runs one; tests and the demo run several.
 * Before it writes anything it catches up with its peers (recovery.ts): that is where a
 * node whose store was lost or repaired gets its own feed back. On first start the node
 * writes its farm settings from the config into the shared client table; after that the
 * table is the truth (edited with `cr node set`). What it agrees to run is its own
 * config's alone: it restates it at every start, which also tells the farm that it
 * started afresh (a failure before that no longer makes it ERROR, see view.ts).
 */
import { hasIdentity, loadOrCreateIdentity } from '../identity.js'
import { localTimeIn } from '../local-time.js'
import { createLogger, type Logger } from '../log.js'
import type { NodeConfig } from '../config/node-config.js'
import { Mesh } from '../mesh/mesh.js'
import { readFarmKey } from '../mesh/swarm-key.js'
import { StoreClosedError } from '../store/errors.js'
import { EventStore, storeDirOf } from '../store/event-store.js'
import type { NodeChanges } from '../../protocol/events.js'
import type { NodeRecord } from '../../protocol/records.js'
import { signerFromKey } from '../../protocol/signing.js'
import { removeStaleScratch, sweepLeftoverRenders } from '../../render/index.js'
import { AgentDriver } from './agent-driver.js'
import { joinCaughtUp } from './recovery.js'
import { RendererSlot } from './renderer-slot.js'

/** Time for the last gossip (a release) to leave before the mesh closes. */
const RELEASE_FLUSH_MS = 200

export interface RenderNodeOptions {
  readonly logger?: Logger
  /** Wall clock in ms; tests move it to reach a working-hour window. */
  readonly now?: () => number
  /** Abort to give up a start still waiting for its peers; `start` then rejects with the signal's reason. */
  readonly signal?: AbortSignal
  /**
   * Hears an error that stopped the running node by itself: its store found damaged by the
   * background scrub. The node has stopped (nothing more is written) when this is called.
   */
  readonly onFatal?: (error: Error) => void
}

/**
 * Settings from the config that the node has not written yet (nobody else can address a
 * node before its first start), and the software it accepts, always: the statement that
 * marks this start, and undoes a withdrawal of software the last run found missing.
 */
function settingsToWrite (config: NodeConfig, record: NodeRecord | undefined, firstName: () => string): NodeChanges {
  const written = new Set(Object.values(record?.settings ?? {})
    .filter((fact) => fact.stamp.author === record?.id)
    .flatMap((fact) => Object.keys(fact.changes)))
  const changes: Record<string, unknown> = {}
  if (!written.has('name')) changes.name = firstName()
  for (const [field, value] of Object.entries(config.farm)) {
    if (!written.has(field)) changes[field] = value
  }
  // A node a wrangler took out of the table (cr node remove) that starts again is back in it.
  const removed = Object.values(record?.settings ?? {}).some((fact) => fact.changes.removed === true)
  return { ...changes, ...(removed ? { removed: false } : {}), software: config.render.software }
}

/**
 * The name this node takes on its first start: its config's, or, when another node has
 * that name already, the name with this node's id tail, so that every node stays
 * reachable by name (`cr node set --name` renames it).
 */
function uniqueName (name: string, store: EventStore, logger: Logger): string {
  const taken = store.view().nodes.find((node) => node.id !== store.author && node.name === name)
  if (taken === undefined) return name
  const unique = `${name}-${store.author.slice(-6)}`
  logger.warn('another node has this name already: taking a unique one', { name, taken: taken.id, as: unique })
  return unique
}

/**
 * Kills what an earlier run of this node left rendering (it was killed under its renders),
 * before their scratch folders go: the guardian's backstop, and all there is on macOS.
 */
async function sweepLeftovers (scratchDir: string, nodeId: string, logger: Logger): Promise<void> {
  for (const swept of await sweepLeftoverRenders(scratchDir, nodeId)) {
    if (swept.outcome === 'killed') logger.warn('killed a render left running by an earlier run of this node', { group: swept.group, render: swept.label })
    else if (swept.outcome === 'unreadable') logger.warn('a record of a render left by an earlier run is unreadable; nothing killed', { file: swept.file, why: swept.why })
    else logger.info('a render left by an earlier run of this node is gone', { group: swept.group, render: swept.label, outcome: swept.outcome })
  }
}

export class RenderNode {
  private stopping: Promise<void> | undefined

  private constructor (
    readonly config: NodeConfig,
    readonly store: EventStore,
    readonly mesh: Mesh,
    private readonly driver: AgentDriver,
    private readonly logger: Logger,
    private readonly onFatal: (error: Error) => void
  ) {}

  get peerId (): string {
    return this.store.author
  }

  /** Opens the data dir, joins the mesh and starts taking work. */
  static async start (config: NodeConfig, options: RenderNodeOptions = {}): Promise<RenderNode> {
    const logger = options.logger ?? createLogger('node')
    const now = options.now ?? Date.now
    const localTime = localTimeIn(config.timeZone)
    const identityExisted = await hasIdentity(config.dataDir)
    const privateKey = await loadOrCreateIdentity(config.dataDir)
    const { psk: swarmKey, founder } = await readFarmKey(config.swarmKeyFile)
    const store = await EventStore.open(storeDirOf(config.dataDir), signerFromKey(privateKey), { authority: { founder }, now })
    const mesh = new Mesh({ privateKey, swarmKey, log: store, config: config.mesh, logger: logger.child('mesh'), now })
    try {
      // Only this node's own folder: the root may be shared with other nodes, or be /var/tmp.
      // The store's lock, held now, means no other process of this node is rendering there.
      await sweepLeftovers(config.scratchDir, store.author, logger)
      await removeStaleScratch(config.scratchDir, store.author)
      // Kept in the log (its chain is sound) but without effect: worth a sysadmin's look. A
      // non-holder's block fact is also what an honest loser of a claim collision writes.
      store.onRefusedFact(({ author, seq, type, refusal }) => {
        logger[refusal.reason === 'not-lease-holder' ? 'info' : 'warn']('fact has no effect', { author, seq, type, reason: refusal.reason, why: refusal.why })
      })
      // Nothing of ours is written before this: a store that lost its tail would fork our feed,
      // and an agent on a partial view would claim blocks of finished jobs.
      await joinCaughtUp({ store, mesh, identityExisted, name: config.name, now, logger: logger.child('catch-up'), signal: options.signal })
      await store.append({ type: 'node.settings', node: store.author, changes: settingsToWrite(config, store.records().nodes[store.author], () => uniqueName(config.name, store, logger)) }, now())
      const renderer = new RendererSlot({ scratchRoot: config.scratchDir, nodeId: store.author, logger: logger.child('render') })
      const driver = new AgentDriver({
        store, mesh, renderer, now, localTime,
        name: config.name,
        renders: config.render.enabled,
        local: {
          executables: config.render.executables,
          software: config.render.software,
          blenderScripts: config.render.blenderScripts,
          timeoutPerFrameS: config.render.timeoutPerFrame,
          timeoutGraceS: config.render.timeoutGrace
        },
        logger: logger.child('agent')
      })
      driver.start()
      logger.info('node started', { name: config.name, peer: store.author, addresses: mesh.addresses() })
      const node = new RenderNode(config, store, mesh, driver, logger, options.onFatal ?? (() => undefined))
      node.scrubInBackground()
      return node
    } catch (error) {
      await mesh.stop()
      await store.close()
      throw error
    }
  }

  /**
   * Stops the node. Graceful by default: the held block is released (or, with the
   * config's `onShutdown = "finish"`, finished first) and the release reaches the mesh
   * before the node leaves, so another node takes the block at once.
   */
  async stop (): Promise<void> {
    this.stopping ??= this.shutdown()
    await this.stopping
  }

  /** Checks every stored feed while the node works; damage stops the node (README: Recovering a node). */
  private scrubInBackground (): void {
    this.store.scrub({ stopped: () => this.stopping !== undefined }).then((events) => {
      this.logger.debug('store scrubbed: every feed checks out', { events })
    }, (error: unknown) => {
      // A stop closes the store under a scrub in progress: that is no damage.
      if (this.stopping !== undefined && error instanceof StoreClosedError) return
      this.logger.error('the store is damaged: stopping the node', { error })
      const fatal = error instanceof Error ? error : new Error(String(error))
      this.stop().then(() => { this.onFatal(fatal) }, (stopError: unknown) => {
        this.logger.error('stopping after store damage failed', { error: stopError })
        this.onFatal(fatal)
      })
    })
  }

  private async shutdown (): Promise<void> {
    await this.driver.stop({ finishFirst: this.config.render.onShutdown === 'finish' })
    // Give gossip a moment to carry the release out before the connections close.
    await new Promise((resolve) => setTimeout(resolve, RELEASE_FLUSH_MS))
    await this.mesh.stop()
    await this.store.close()
    this.logger.info('node stopped', { name: this.config.name })
  }
}
