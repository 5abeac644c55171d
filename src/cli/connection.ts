/**
 * How a command reaches the farm: the flags every controller command shares (data
 * directory, swarm key, peers, listen address, mDNS tag, timeout), each with an
 * environment variable, and a session that runs the command against the farm.
 *
 * A session asks, in this order: the process that already holds the data directory (a
 * `cr logs --follow`, the TUI), over its local endpoint; this machine's render node on the
 * same farm, whose copy is live: a read is answered from it, a write opens the command's
 * own store, catches up from the node and relays its signed event through it, all over
 * the node's local endpoint; else it opens a controller of its own, joins the mesh, catches
 * up and serves the data directory's other commands itself until it closes.
 */
import path from 'node:path'
import { Option, type Command } from 'commander'
import { Controller } from '../node/controller/controller.js'
import { DataDirInUseError, NoPeerReachableError } from '../node/controller/errors.js'
import type { FarmReads } from '../node/controller/farm-reads.js'
import { localFarmOf, type ServedController } from '../node/controller/local-farm.js'
import { defaultDataDir } from '../node/config/node-config.js'
import { LocalClient } from '../node/local/client.js'
import { HolderGoneError, HolderRefusedError, LocalWireError } from '../node/local/errors.js'
import { farmFingerprint, LocalEndpoint } from '../node/local/endpoint.js'
import type { Hello, Snapshot } from '../node/local/messages.js'
import { RelayController } from '../node/local/relay-controller.js'
import { readFarmKey } from '../node/mesh/swarm-key.js'
import { assertDataDir } from '../node/identity.js'
import { createLogger, humanLineSink, levelFromEnv, type Logger } from '../node/log.js'
import { storeDirOf } from '../node/store/event-store.js'
import { storeOpenFailure } from '../node/store/errors.js'
import type { DraftBody, VerifiedEvent } from '../protocol/events.js'
import { UsageError } from './exit.js'
import { heldFarm, unlessHolderLeaves } from './held-session.js'
import { StatusLine } from './progress.js'
import { assertTyped, inCommandTerms } from './typed-writes.js'

/** Long enough for mDNS and a catch-up on a busy LAN; `--timeout` changes it. */
const DEFAULT_TIMEOUT_S = 10
/** A command that lost the race for the store to another: how long it keeps looking for the winner's endpoint or the free store. */
const HOLDER_START_WAIT_MS = 5_000
const HOLDER_POLL_MS = 50
/** How a catch-up from this machine's node fails on the node's side (gone, refused, garbled), not ours: a controller of our own then takes over. */
const NODE_FAILURES = [HolderGoneError, HolderRefusedError, LocalWireError]

export interface ConnectionOptions {
  readonly dataDir: string
  readonly swarmKey?: string
  readonly peer: readonly string[]
  readonly listen: string
  readonly mdnsTag?: string
  readonly timeout: string
  readonly verbose?: boolean
}

/** `--data-dir` (`CR_DATA_DIR`): which identity and copy of the log a command uses. */
export function dataDirOption (description = 'this machine\'s identity and copy of the log'): Option {
  return new Option('--data-dir <dir>', description).env('CR_DATA_DIR').default(defaultDataDir())
}

/** Adds the shared connection flags to a command. */
export function withConnectionOptions (command: Command): Command {
  return command
    .addOption(dataDirOption())
    .addOption(new Option('--swarm-key <file>', 'the studio\'s swarm key (default: swarm.key in the data dir)').env('CR_SWARM_KEY'))
    .addOption(new Option('--peer <multiaddr>', 'a peer to dial where mDNS cannot reach (repeatable)')
      .argParser((value: string, previous: string[]) => [...previous, value]).default([]))
    .addOption(new Option('--listen <multiaddr>', 'where this controller listens').env('CR_LISTEN').default('/ip4/0.0.0.0/tcp/0'))
    .addOption(new Option('--mdns-tag <tag>', 'the farm\'s mDNS service tag').env('CR_MDNS_TAG'))
    .addOption(new Option('--timeout <seconds>', 'how long to wait for a peer').env('CR_TIMEOUT').default(String(DEFAULT_TIMEOUT_S)))
    .option('--verbose', 'show progress and mesh messages on stderr even when it is not a terminal')
    .hook('postAction', exitOnceFlushed)
}

/**
 * Ends the process once what it printed is out. libp2p leaves a one-second timer behind
 * after it stops (its address-update debounce), and a finished command need not wait it out.
 */
async function exitOnceFlushed (): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    await new Promise<void>((resolve) => { stream.write('', () => { resolve() }) })
  }
  process.exit()
}

/** The farm as one command reads and writes it: through its own controller or the data directory's holder. */
export interface Session<Farm extends FarmReads = FarmReads> {
  readonly controller: Farm
  /** Whether a peer answered the catch-up; reads without one show the local copy. */
  readonly reachedPeer: boolean
  /** Writes `body` and waits until a peer stored it; throws NoPeerReachableError. */
  readonly write: (body: DraftBody) => Promise<VerifiedEvent>
  readonly status: StatusLine
}

export type SessionMode = 'read' | 'write'

/**
 * Runs `work` against the farm and closes what it opened. A read without any peer warns
 * and goes on with the local copy; a write without one fails before writing anything.
 */
export async function inSession<T> (options: ConnectionOptions, mode: SessionMode, work: (session: Session) => T | Promise<T>): Promise<T> {
  await assertDataDir(options.dataDir)
  const farm = await farmOf(options)
  const reached = await reach(options, farm, mode)
  if (reached instanceof Controller) return await withController(reached, options, farm, mode, work)
  if ('relay' in reached) return await withRelay(reached, options, farm, work)
  return await inHeldSession(reached.holder, reached.snapshot, options, work)
}

/**
 * A session with a controller of its own, whatever else runs: for a command that needs the
 * whole replica (cr export), not only a view of it.
 */
export async function inReplicaSession<T> (options: ConnectionOptions, work: (session: Session<Controller>) => T | Promise<T>): Promise<T> {
  await assertDataDir(options.dataDir)
  const farm = await farmOf(options)
  const node = await localNodeOn(farm)
  node?.client.close()
  const controller = controllerFor(options, commandLogger(options), dialFirst(node))
  try {
    await controller.open()
  } catch (error) {
    throw storeOpenFailure(storeDirOf(options.dataDir), error)
  }
  return await withController(controller, options, farm, 'read', work)
}

interface Held {
  readonly holder: LocalClient
  readonly snapshot: Snapshot
}

interface Relayed {
  readonly relay: RelayController
  /** Where this machine's node listens, for a controller of our own should the node not relay. */
  readonly nearby: readonly string[]
}

/**
 * Who answers this command: the data directory's holder (or, for a read, this machine's
 * node), else a store of its own that writes through this machine's node, else a
 * controller of its own. A holder that leaves before it answered (its own command ended)
 * did nothing for us, so the command looks again; so does one that lost the race for the
 * store to another command, until the winner answers or lets go.
 */
async function reach (options: ConnectionOptions, farm: string | null, mode: SessionMode): Promise<Controller | Relayed | Held> {
  const giveUpAt = Date.now() + HOLDER_START_WAIT_MS
  const node = await localNodeOn(farm)
  // A read may ask the node (once: if it leaves, the command goes on without it); a write relays through it.
  let askNode = mode === 'read' ? node?.client ?? null : null
  let relayVia = mode === 'write' ? node?.client ?? null : null
  // A controller of our own, should the node not answer, dials where the node listens, without waiting for mDNS.
  const nearby = dialFirst(node)
  for (;;) {
    const dataDirHolder = await LocalClient.connect(options.dataDir)
    if (dataDirHolder !== null) {
      askNode?.close()
      relayVia?.close()
      relayVia = null
    }
    const holder = dataDirHolder ?? askNode
    askNode = null
    if (holder !== null) {
      const snapshot = await holder.snapshot().catch((error: unknown) => {
        holder.close()
        if (error instanceof HolderGoneError && Date.now() < giveUpAt) return null
        throw error
      })
      if (snapshot !== null) return { holder, snapshot }
      continue
    }
    try {
      if (relayVia !== null) return { relay: await RelayController.open({ dataDir: options.dataDir, swarmKeyFile: swarmKeyFileOf(options), node: relayVia }), nearby }
      const controller = controllerFor(options, commandLogger(options), nearby)
      await controller.open()
      return controller
    } catch (error) {
      if (!(error instanceof DataDirInUseError) || Date.now() >= giveUpAt) throw storeOpenFailure(storeDirOf(options.dataDir), error)
      await new Promise((resolve) => setTimeout(resolve, HOLDER_POLL_MS))
    }
  }
}

/**
 * Catches up from this machine's node, runs `work` with writes relayed through the node,
 * and closes. It serves no other command of its data directory: it holds the store for a
 * moment, and one that meets the lock meanwhile looks again. A node that stops, refuses or
 * garbles before the catch-up ends (one too old to relay, or a command's controller
 * holding the node's data directory) leaves nothing written, so the command joins the
 * mesh with a controller of its own instead.
 */
async function withRelay<T> ({ relay, nearby }: Relayed, options: ConnectionOptions, farm: string | null, work: (session: Session) => T | Promise<T>): Promise<T> {
  const timeoutMs = timeoutOf(options)
  const status = new StatusLine(process.stderr, options.verbose === true)
  try {
    await relay.catchUp(status.report)
  } catch (error) {
    status.clear()
    await relay.close()
    if (!NODE_FAILURES.some((kind) => error instanceof kind)) throw error
    const controller = controllerFor(options, commandLogger(options), nearby)
    try {
      await controller.open()
    } catch (opening) {
      throw storeOpenFailure(storeDirOf(options.dataDir), opening)
    }
    return await withController(controller, options, farm, 'write', work)
  }
  try {
    status.clear()
    const write = async (body: DraftBody): Promise<VerifiedEvent> => {
      assertTyped(body)
      try {
        return await relay.write(body, timeoutMs)
      } catch (error) {
        throw inCommandTerms(body, error)
      }
    }
    return await work({ controller: relay, reachedPeer: true, write, status })
  } finally {
    status.clear()
    await relay.close()
  }
}

/** Catches up, serves the data directory's other commands meanwhile, runs `work` and closes. */
async function withController<T> (controller: Controller, options: ConnectionOptions, farm: string | null, mode: SessionMode, work: (session: Session<Controller>) => T | Promise<T>): Promise<T> {
  const timeoutMs = timeoutOf(options)
  const status = new StatusLine(process.stderr, options.verbose === true)
  let endpoint: LocalEndpoint | null = null
  try {
    const catchingUp = controller.catchUp({ timeoutMs, onProgress: status.report })
    // Awaited below; handled here too, so a failure while the endpoint opens is not an unhandled rejection.
    catchingUp.catch(() => undefined)
    let reachedPeer = false
    // Other commands wait for the catch-up, then read what this one reads.
    endpoint = await serveDataDir(controller, options, farm, { reachedPeer: () => reachedPeer, ready: catchingUp })
    const { peers } = await catchingUp
    reachedPeer = peers.length > 0
    status.clear()
    if (!reachedPeer) {
      if (mode === 'write') throw new NoPeerReachableError(options.dataDir, timeoutMs, false)
      console.error(`cr: warning: no peer reachable within ${timeoutMs / 1000} s; showing this machine's local copy of the log, which may be out of date`)
    }
    const write = async (body: DraftBody): Promise<VerifiedEvent> => {
      assertTyped(body)
      try {
        return await controller.write(body, { timeoutMs, onProgress: status.report })
      } catch (error) {
        throw inCommandTerms(body, error)
      } finally {
        status.clear()
      }
    }
    return await work({ controller, reachedPeer, write, status })
  } finally {
    status.clear()
    await endpoint?.close()
    await controller.close()
  }
}

/**
 * Answers the data directory's other commands for as long as `controller` holds it (close
 * the endpoint before the controller). Null without a farm key to name the farm by, or
 * where the path is too long for a socket: other commands then meet the store's lock.
 */
export async function serveDataDir (controller: Controller, options: ConnectionOptions, farm: string | null, state: Pick<ServedController, 'reachedPeer' | 'ready'>, logger = commandLogger(options)): Promise<LocalEndpoint | null> {
  if (farm === null) return null
  return await LocalEndpoint.open(options.dataDir, localFarmOf(controller, { farm, ...state }), logger)
}

/** Runs `work` against the process that holds the data directory (or this machine's node), as `snapshot` shows the farm. */
async function inHeldSession<T> (holder: LocalClient, snapshot: Snapshot, options: ConnectionOptions, work: (session: Session) => T | Promise<T>): Promise<T> {
  const timeoutMs = timeoutOf(options)
  const status = new StatusLine(process.stderr, options.verbose === true)
  try {
    if (!snapshot.reachedPeer) console.error('cr: warning: the process this command asked has no peer now; showing its copy of the log, which may be out of date')
    const write = async (body: DraftBody): Promise<VerifiedEvent> => {
      assertTyped(body)
      try {
        return await unlessHolderLeaves(holder, holder.write(body, timeoutMs))
      } catch (error) {
        throw inCommandTerms(body, error)
      }
    }
    return await unlessHolderLeaves(holder, Promise.resolve(work({ controller: heldFarm(holder, snapshot), reachedPeer: snapshot.reachedPeer, write, status })))
  } finally {
    status.clear()
    holder.close()
  }
}

/** The fingerprint of the farm the swarm key names; null without a readable key (the controller then says why). */
export async function farmOf (options: ConnectionOptions): Promise<string | null> {
  try {
    return farmFingerprint((await readFarmKey(swarmKeyFileOf(options))).psk)
  } catch {
    return null
  }
}

interface LocalNode {
  readonly client: LocalClient
  readonly hello: Hello
}

/** This machine's render node (at the default node data directory), if it runs on `farm`; the caller closes its client. */
async function localNodeOn (farm: string | null): Promise<LocalNode | null> {
  if (farm === null) return null
  const client = await LocalClient.connect(path.join(defaultDataDir(), 'node')).catch(() => null)
  if (client === null) return null
  const hello = await client.hello().catch(() => null)
  if (hello?.farm === farm) return { client, hello }
  client.close()
  return null
}

/** Where to dial the local node: its loopback addresses where it has any. */
function dialFirst (node: LocalNode | null): string[] {
  const addresses = node?.hello.addresses ?? []
  const loopback = addresses.filter((address) => address.startsWith('/ip4/127.') || address.startsWith('/ip6/::1/'))
  return loopback.length > 0 ? loopback : [...addresses]
}

/**
 * Mesh records are for operators: a command shows only errors unless --verbose or
 * CR_LOG_LEVEL asks for more, and as lines a person reads, not the node's JSON.
 */
function commandLogger (options: ConnectionOptions): Logger {
  return createLogger('cr', {
    level: options.verbose === true ? 'info' : process.env.CR_LOG_LEVEL === undefined ? 'error' : levelFromEnv(process.env),
    sink: humanLineSink(process.stderr)
  })
}

function swarmKeyFileOf (options: ConnectionOptions): string {
  return options.swarmKey ?? path.join(options.dataDir, 'swarm.key')
}

/** A controller (not yet open) on the farm the connection flags name, logging to `logger`; `nearby` are peers to dial at once. */
export function controllerFor (options: ConnectionOptions, logger: Logger, nearby: readonly string[] = []): Controller {
  return new Controller({
    dataDir: options.dataDir,
    swarmKeyFile: swarmKeyFileOf(options),
    mesh: {
      listen: [options.listen],
      bootstrapPeers: [...options.peer, ...nearby],
      ...(options.mdnsTag === undefined ? {} : { mdns: { serviceTag: options.mdnsTag } })
    },
    logger
  })
}

/** `--timeout` in ms; a UsageError for anything but a positive number of seconds. */
export function timeoutOf (options: ConnectionOptions): number {
  const seconds = Number(options.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--timeout', `must be a positive number of seconds, not ${JSON.stringify(options.timeout)}`)
  return seconds * 1000
}
