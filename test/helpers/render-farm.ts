/**
 * A farm of real render-node processes (`cr node`) for end-to-end tests, plus an in-process observer
 * peer (its own store and mesh) that submits jobs and watches the shared view, as an
 * artist's controller would. One temp dir, swarm key and mDNS tag per farm. Must run
 * inside the test network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { stringify as stringifyToml } from 'smol-toml'
import { silentLogger } from '../../src/node/log.js'
import { Mesh } from '../../src/node/mesh/mesh.js'
import { readFarmKey, writeSwarmKey } from '../../src/node/mesh/swarm-key.js'
import { EventStore } from '../../src/node/store/event-store.js'
import type { DraftBody, JobFields, JobSpec, VerifiedEvent } from '../../src/protocol/events.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import type { BlockView, FarmView, Lease } from '../../src/protocol/view.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from './farm-events.js'
import { inHost, type Host } from './netns.js'

/** The real `cr` entry point: the farm runs `cr node --config <file>` as a studio would. */
const CR = fileURLToPath(new URL('../../bin/cr.js', import.meta.url))
const READY = / is rendering for the farm as (\S+)$/
/** A guard against hanging forever, not a deadline under test. */
const HANG_GUARD_MS = 90_000
const STDERR_TAIL_LINES = 60
/**
 * How long a lease must hold before the scene counts it as the block's: on a loaded
 * machine a colliding claim at the same epoch can reach the observer after the holder
 * started, and move the lease to the claimant that outranks it.
 */
const LEASE_STABLE_MS = 1_000

export class NodeProcess {
  readonly stderrTail: string[] = []
  /** Every log line's `msg`, and how often, over the node's whole life. */
  readonly messages = new Map<string, number>()
  readonly exited: Promise<void>

  constructor (readonly name: string, readonly peerId: string, readonly child: ChildProcess) {
    this.exited = once(child, 'exit').then(() => undefined)
    if (child.stderr !== null) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        const msg = /"msg":"([^"]*)"/.exec(line)?.[1]
        if (msg !== undefined) this.messages.set(msg, (this.messages.get(msg) ?? 0) + 1)
        this.stderrTail.push(line)
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift()
      })
    }
  }

  signal (signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  /** Log lines this node wrote with `msg` (JSON lines on stderr). */
  logged (msg: string): boolean {
    return this.stderrTail.some((line) => line.includes(`"msg":"${msg}"`))
  }
}

/** A node that exited before it was ready (a refused config or store): its stderr says why. */
export class NodeExitedEarlyError extends Error {
  override readonly name = 'NodeExitedEarlyError'
  constructor (readonly node: string, readonly code: number | null, readonly stderr: string) {
    super(`node ${node} exited with ${String(code)} before it was ready\n${stderr.split('\n').slice(-STDERR_TAIL_LINES).join('\n')}`)
  }
}

/** What is left to read of an exited child's stderr. */
async function stderrOf (child: ChildProcess): Promise<string> {
  if (child.stderr === null) return ''
  const chunks: Buffer[] = []
  for await (const chunk of child.stderr) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export interface OneBlock {
  readonly nodes: readonly NodeProcess[]
  readonly job: JobSpec
  /** The lease of the node rendering the block when it was first seen rendering. */
  readonly lease: Lease
  readonly holder: NodeProcess
  readonly blockOf: (view: FarmView) => BlockView | undefined
}

export interface RenderFarmOptions {
  /** The observer's mesh settings instead of the nodes' loopback ones (a farm of separate hosts). */
  readonly observerMesh?: Record<string, unknown>
}

export interface StartNodeOptions {
  /** Run the node on this host (test/helpers/netns.ts) instead of in the test's namespace. */
  readonly host?: Host
}

export class RenderFarm {
  readonly nodes: NodeProcess[] = []
  private observerParts: { store: EventStore, mesh: Mesh } | undefined

  private constructor (readonly dir: string, readonly swarmKeyFile: string, readonly mdnsTag: string, private readonly observerKey: PrivateKey, private readonly options: RenderFarmOptions) {}

  /** A farm whose founder is the observer, so the tests may steer every job and node, as a wrangler would. */
  static async create (options: RenderFarmOptions = {}): Promise<RenderFarm> {
    const dir = await mkdtemp(path.join(tmpdir(), 'cr-farm-'))
    const swarmKeyFile = path.join(dir, 'swarm.key')
    const observerKey = await generateKeyPair('Ed25519')
    await writeSwarmKey(swarmKeyFile, { founder: peerIdFromPrivateKey(observerKey).toString() })
    return new RenderFarm(dir, swarmKeyFile, `_cr-${randomUUID().slice(0, 8)}._udp.local`, observerKey, options)
  }

  private meshConfig () {
    return { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag: this.mdnsTag, queryIntervalMs: 500 } }
  }

  /**
   * Starts a node process with `farm` settings and extra config, and waits until it is
   * ready. Starting a name again restarts that node on its data dir.
   */
  async startNode (name: string, extra: Record<string, unknown> = {}, options: StartNodeOptions = {}): Promise<NodeProcess> {
    const config = {
      name,
      dataDir: path.join(this.dir, name),
      scratchDir: path.join(this.dir, name, 'scratch'),
      swarmKeyFile: this.swarmKeyFile,
      mesh: this.meshConfig(),
      ...extra
    }
    const file = path.join(this.dir, `${name}.toml`)
    await writeFile(file, stringifyToml(config))
    const command = [process.execPath, CR, 'node', '--config', file]
    const [program = '', ...args] = options.host === undefined ? command : inHost(options.host, command)
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CR_LOG_LEVEL: 'info' } })
    const lines = createInterface({ input: child.stdout })
    const ready = new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        const peerId = READY.exec(line)?.[1]
        if (peerId !== undefined) resolve(peerId)
      })
      child.once('exit', (code) => {
        stderrOf(child).then((stderr) => { reject(new NodeExitedEarlyError(name, code, stderr)) }, reject)
      })
    })
    const node = new NodeProcess(name, await ready, child)
    this.nodes.push(node)
    return node
  }

  /** The observer peer, started on first use. */
  async observer (): Promise<{ store: EventStore, mesh: Mesh }> {
    if (this.observerParts !== undefined) return this.observerParts
    const privateKey = this.observerKey
    const { psk: swarmKey, founder } = await readFarmKey(this.swarmKeyFile)
    const store = await EventStore.open(path.join(this.dir, 'observer'), signerFromKey(privateKey), { authority: { founder } })
    const mesh = new Mesh({ privateKey, swarmKey, log: store, logger: silentLogger(), config: this.options.observerMesh ?? this.meshConfig() })
    await mesh.start()
    this.observerParts = { store, mesh }
    return this.observerParts
  }

  /** Writes an event as the observer, once at least one node is connected to hear it. */
  async write (body: DraftBody): Promise<VerifiedEvent> {
    const { store, mesh } = await this.observer()
    await this.until(() => mesh.connectedPeers().length > 0 ? true : undefined, 'a node to connect')
    return (await store.append(body, Date.now())).event
  }

  /** Submits a job as the observer; returns it with the id its submit event gave it. */
  async submit (job: JobFields): Promise<JobSpec> {
    const { body } = (await this.write({ type: 'job.submitted', job })).event
    if (body.type !== 'job.submitted') throw new Error('a submission wrote another kind of event')
    return body.job
  }

  /**
   * Starts nodes `names`, submits a one-block job of the built-in renderer (each frame
   * taking `frameDelayMs`) and waits until one of them renders it under a lease that
   * holds: the scene of the takeover tests and benchmarks, ready for the holder to be harmed.
   */
  async renderOneBlock (names: readonly string[], options: { readonly frameDelayMs: number, readonly frames: number }): Promise<OneBlock> {
    const scene = path.join(this.dir, 'scene.json')
    await writeProceduralScene(scene, { width: 16, height: 9, frameDelayMs: options.frameDelayMs })
    const nodes = await Promise.all(names.map(async (name) => this.startNode(name)))
    const job = await this.submit(jobSpec({ software: 'procedural', scenePath: scene, targetPath: path.join(this.dir, 'frames'), frameStart: 1, frameEnd: options.frames, blockSize: options.frames, imageName: 'block', imageFormat: 'png' }))
    const blockOf = (view: FarmView): BlockView | undefined => view.jobs.find((candidate) => candidate.id === job.id)?.blocks[0]
    const rendering = async (): Promise<Lease> => this.until((view) => blockOf(view)?.status === 'RENDERING' ? blockOf(view)?.lease ?? undefined : undefined, 'a node rendering the block')
    let lease = await rendering()
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_STABLE_MS))
      const now = await rendering()
      if (now.holder === lease.holder && now.epoch === lease.epoch) break
      lease = now
    }
    const holder = nodes.find((node) => node.peerId === lease.holder)
    if (holder === undefined) throw new Error(`the holder ${lease.holder} is not one of the farm's nodes`)
    return { nodes, job, lease, holder, blockOf }
  }

  /** Polls the observer's view until `check` returns a value; fails with the nodes' logs after the hang guard. */
  async until<T> (check: (view: FarmView) => T | undefined, what: string): Promise<T> {
    const { store } = await this.observer()
    const started = Date.now()
    for (;;) {
      const found = check(store.view())
      if (found !== undefined) return found
      if (Date.now() - started > HANG_GUARD_MS) {
        throw new Error(`no ${what} after ${HANG_GUARD_MS} ms\n${this.nodes.map((node) => `--- ${node.name}\n${node.stderrTail.slice(-15).join('\n')}`).join('\n')}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async destroy (): Promise<void> {
    for (const node of this.nodes) node.signal('SIGKILL')
    await Promise.all(this.nodes.map(async (node) => node.exited))
    if (this.observerParts !== undefined) {
      await this.observerParts.mesh.stop()
      await this.observerParts.store.close()
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}
