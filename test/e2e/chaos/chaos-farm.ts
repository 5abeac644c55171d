/**
 * The chaos suite's farm: real `cr node` processes, each on a host of its own (a network
 * namespace on a shared bridge, test/helpers/netns.ts), each with a small tmpfs as its
 * scratch disk; an observer peer in the test process on the same segment; and the means
 * to hurt them: kill, stop, cut, delete or damage a store, fill a scratch disk, make the
 * targets read-only, and to heal each of those again.
 *
 * Run as root inside the test's private namespace (scripts/in-netns.sh). Mounts are made
 * in the test's mount namespace, which the nodes share (they enter only a network
 * namespace), and `destroy` removes every one of them.
 */
import { execFile } from 'node:child_process'
import { mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { loadIdentity } from '../../../src/node/identity.js'
import { readFarmKey } from '../../../src/node/mesh/swarm-key.js'
import { checkStore, type StoreCheck } from '../../../src/node/store/check.js'
import { EventStore, storeDirOf } from '../../../src/node/store/event-store.js'
import { signerFromKey } from '../../../src/protocol/signing.js'
import type { VersionVector } from '../../../src/protocol/version-vector.js'
import { HostNetwork, type Host } from '../../helpers/netns.js'
import { NodeExitedEarlyError, RenderFarm, type NodeProcess } from '../../helpers/render-farm.js'
import { FAKE_RENDERER } from '../../fixtures/render/helpers.js'

const run = promisify(execFile)
const CR = fileURLToPath(new URL('../../../bin/cr.js', import.meta.url))

/** Every node listens on this port of its own host, so the observer can name them all up front. */
const NODE_PORT = 4001
/** The observer's address on the segment; the hosts are .1 to .N. */
const OBSERVER_ADDRESS = '198.18.0.254'
/** Big enough for a few blocks of frames and Blender's temporary files, small enough to fill at once. */
const SCRATCH_DISK_MB = 48
/** Bytes flipped by a store-damage fault, as in the report. */
const DAMAGED_BYTES = 8
const FILL_CHUNK_BYTES = 1024 * 1024

/** One node of the farm, alive or not, with the parts a fault reaches. */
export class ChaosNode {
  process: NodeProcess | undefined
  /** A fault is being inflicted or healed: no second one lands on the node until it is over. */
  busy = false

  constructor (readonly name: string, readonly host: Host, readonly dataDir: string, readonly scratchDisk: string) {}

  get scratchDir (): string {
    return path.join(this.scratchDisk, 'scratch')
  }

  get filler (): string {
    return path.join(this.scratchDisk, 'filler')
  }
}

export interface PeerState {
  readonly name: string
  readonly stateHash: string
  readonly vv: VersionVector
  readonly check: StoreCheck
}

/** A node that exited without being told to: a crash the run must report. */
export interface Crash {
  readonly node: ChaosNode
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderrTail: readonly string[]
}

export class ChaosFarm {
  private readonly mounts: string[] = []
  /** Hears every crash; the run restarts the node, as the service manager would. */
  onCrash: (crash: Crash) => void = () => undefined

  private constructor (readonly farm: RenderFarm, readonly network: HostNetwork, readonly nodes: readonly ChaosNode[], readonly targetsDir: string) {}

  static async create (count: number): Promise<ChaosFarm> {
    const network = await HostNetwork.create(count)
    try {
      await network.joinSegment(OBSERVER_ADDRESS)
      const farm = await RenderFarm.create({
        observerMesh: {
          listen: [`/ip4/${OBSERVER_ADDRESS}/tcp/0`],
          mdns: { enabled: false },
          bootstrapPeers: network.hosts.map((host) => `/ip4/${host.address}/tcp/${NODE_PORT}`),
          bootstrapRedialMs: 1_000,
          sync: { antiEntropyIntervalMs: 2_000 }
        }
      })
      const nodes = network.hosts.map((host, index) => {
        const name = `chaos${index + 1}`
        return new ChaosNode(name, host, path.join(farm.dir, name), path.join(farm.dir, `${name}-scratch-disk`))
      })
      const chaos = new ChaosFarm(farm, network, nodes, path.join(farm.dir, 'targets'))
      await mkdir(chaos.targetsDir, { recursive: true })
      for (const node of nodes) {
        await mkdir(node.scratchDisk, { recursive: true })
        await chaos.mount(['-t', 'tmpfs', '-o', `size=${SCRATCH_DISK_MB}m`, 'tmpfs', node.scratchDisk])
      }
      return chaos
    } catch (error) {
      await network.destroy()
      throw error
    }
  }

  /** Starts (or restarts) a node on its host and data dir, and waits until it is ready. */
  async start (node: ChaosNode): Promise<NodeProcess> {
    node.process = await this.farm.startNode(node.name, {
      dataDir: node.dataDir,
      scratchDir: node.scratchDir,
      mesh: {
        listen: [`/ip4/${node.host.address}/tcp/${NODE_PORT}`],
        mdns: { serviceTag: this.farm.mdnsTag, queryIntervalMs: 500 },
        sync: { antiEntropyIntervalMs: 2_000 }
      },
      render: { software: ['maya-software', 'blender'], executables: { maya: FAKE_RENDERER } }
    }, { host: node.host })
    const started = node.process
    started.child.once('exit', (code, signal) => {
      // Exits the farm caused (kill, the final stop) clear node.process first.
      if (node.process !== started) return
      node.process = undefined
      this.onCrash({ node, code, signal, stderrTail: [...started.stderrTail] })
    })
    return started
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill (node: ChaosNode): Promise<void> {
    const running = node.process
    if (running === undefined) return
    node.process = undefined
    running.signal('SIGKILL')
    await running.exited
  }

  signal (node: ChaosNode, signal: 'SIGSTOP' | 'SIGCONT'): void {
    node.process?.signal(signal)
  }

  /** The documented recovery after a lost disk: the store goes, the identity stays. */
  async deleteStore (node: ChaosNode): Promise<void> {
    await rm(storeDirOf(node.dataDir), { recursive: true, force: true })
  }

  /** Flips bytes at a random place of one of the store's table or log files; returns which. */
  async damageStore (node: ChaosNode, pick: (count: number) => number): Promise<string> {
    const store = storeDirOf(node.dataDir)
    const candidates = []
    for (const name of await readdir(store)) {
      if (/\.(log|ldb)$/.test(name) && (await stat(path.join(store, name))).size > DAMAGED_BYTES) candidates.push(name)
    }
    const name = candidates[pick(candidates.length)]
    if (name === undefined) throw new Error(`no LevelDB file to damage in ${store}`)
    const file = path.join(store, name)
    const handle = await open(file, 'r+')
    try {
      const { size } = await handle.stat()
      const at = pick(size - DAMAGED_BYTES)
      const bytes = Buffer.alloc(DAMAGED_BYTES)
      await handle.read(bytes, 0, DAMAGED_BYTES, at)
      for (let i = 0; i < bytes.length; i++) bytes[i] = (bytes[i] ?? 0) ^ 0xff
      await handle.write(bytes, 0, DAMAGED_BYTES, at)
      return `${name}@${at}`
    } finally {
      await handle.close()
    }
  }

  /**
   * Restarts a node after its store was damaged, as a sysadmin would: if it refuses to
   * start, run the recovery it names (`cr store repair`) and start it again. Returns
   * whether it refused.
   */
  async restartAfterDamage (node: ChaosNode): Promise<{ refused: false } | { refused: true, why: string }> {
    try {
      await this.start(node)
      return { refused: false }
    } catch (error) {
      if (!(error instanceof NodeExitedEarlyError)) throw error
      await run(process.execPath, [CR, 'store', 'repair', '--data-dir', node.dataDir])
      await this.start(node)
      return { refused: true, why: error.stderr.trim().split('\n').slice(-3).join(' | ') }
    }
  }

  /** Fills the node's scratch disk to the last byte. */
  async fillScratch (node: ChaosNode): Promise<void> {
    const handle = await open(node.filler, 'w')
    const chunk = Buffer.alloc(FILL_CHUNK_BYTES)
    try {
      for (;;) await handle.write(chunk)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
    } finally {
      await handle.close()
    }
  }

  async freeScratch (node: ChaosNode): Promise<void> {
    await unlink(node.filler)
  }

  /** Every job's target turns read-only (a read-only bind mount over the targets' folder). */
  async targetsReadOnly (): Promise<void> {
    await this.mount(['--bind', this.targetsDir, this.targetsDir])
    await run('mount', ['-o', 'remount,bind,ro', this.targetsDir])
  }

  async targetsWritable (): Promise<void> {
    await this.unmount(this.targetsDir)
  }

  /** The processes running a renderer for `node`: whatever names its scratch folder on its command line. */
  async renderersOf (node: ChaosNode): Promise<number[]> {
    const pids: number[] = []
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
      if (cmdline.includes(node.scratchDir)) pids.push(Number(entry))
    }
    return pids
  }

  /**
   * Stops every node (SIGTERM: graceful, so the store is closed cleanly) and reads each
   * store back: the state hash, version vector and self-check of every peer, the observer's first.
   */
  async finalStates (): Promise<PeerState[]> {
    await Promise.all(this.nodes.map(async (node) => {
      const running = node.process
      if (running === undefined) return
      node.process = undefined
      running.signal('SIGTERM')
      await running.exited
    }))
    const { store } = await this.farm.observer()
    const states: PeerState[] = [{ name: 'observer', stateHash: store.stateHash(), vv: store.versionVector(), check: await checkStore(store) }]
    const { founder } = await readFarmKey(this.farm.swarmKeyFile)
    for (const node of this.nodes) {
      const opened = await EventStore.open(storeDirOf(node.dataDir), signerFromKey(await loadIdentity(node.dataDir, { create: false })), { authority: { founder } })
      try {
        states.push({ name: node.name, stateHash: opened.stateHash(), vv: opened.versionVector(), check: await checkStore(opened) })
      } finally {
        await opened.close()
      }
    }
    return states
  }

  /** Kills every node and renderer left, then removes the mounts, the farm's folder and the network. */
  async destroy (): Promise<void> {
    for (const node of this.nodes) {
      node.process?.signal('SIGCONT')
      await this.kill(node)
      for (const pid of await this.renderersOf(node)) killQuietly(pid)
    }
    // The mounts live inside the farm's folder: they go first, or removing it fails.
    await this.unmountAll()
    await this.farm.destroy()
    await this.network.destroy()
  }

  private async mount (args: readonly string[]): Promise<void> {
    const point = args.at(-1)
    if (point === undefined) throw new Error('mount needs a mount point')
    await run('mount', [...args])
    this.mounts.push(point)
  }

  private async unmount (point: string): Promise<void> {
    const index = this.mounts.lastIndexOf(point)
    if (index === -1) return
    await run('umount', [point])
    this.mounts.splice(index, 1)
  }

  private async unmountAll (): Promise<void> {
    while (this.mounts.length > 0) {
      const point = this.mounts.pop()
      if (point !== undefined) await run('umount', ['--lazy', point])
    }
  }
}

function killQuietly (pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}
