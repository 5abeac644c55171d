/**
 * A farm of real peer processes for one mesh test: its own temp directory, swarm key and
 * mDNS service tag (so test files running side by side never meet), peers started by name
 * with their data dirs kept across restarts, and waits for connection and convergence.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { writeSwarmKey } from '../../src/node/mesh/swarm-key.js'
import { eventCount } from '../../src/protocol/version-vector.js'
import { PeerProcess, waitUntil } from './peer-process.js'

export interface PeerState {
  readonly stateHash: string
  readonly vv: Readonly<Record<string, number>>
  readonly connected: readonly string[]
}

export interface PeerOptions {
  /** Extra command-line arguments for the fixture. */
  readonly args?: readonly string[]
  readonly netns?: string
  /** Defaults to loopback; a netns host listens on its own address. */
  readonly listen?: string
  /** Another swarm key file (for the outsider). */
  readonly swarmKeyPath?: string
  /** Defaults to the honest peer, peer.ts. */
  readonly program?: string
}

/** The controller whose identity founds every test farm: it may steer everything. */
export const FOUNDING_CONTROLLER = 'wrangler'

export class MeshTestbed {
  readonly peers = new Map<string, PeerProcess>()

  private constructor (readonly dir: string, readonly swarmKeyPath: string, readonly serviceTag: string) {}

  /** A farm whose founder is the controller called `wrangler` (test/fixtures/cli/cr.ts keeps controllers apart). */
  static async create (): Promise<MeshTestbed> {
    const dir = await mkdtemp(join(tmpdir(), 'cr-mesh-'))
    const swarmKeyPath = join(dir, 'swarm.key')
    const founder = peerIdFromPrivateKey(await loadOrCreateIdentity(join(dir, 'controllers', FOUNDING_CONTROLLER)))
    await writeSwarmKey(swarmKeyPath, { founder: founder.toString() })
    return new MeshTestbed(dir, swarmKeyPath, `_cr-${randomBytes(4).toString('hex')}._udp.local`)
  }

  /** Starts (or restarts, with the same data) the peer called `name`. */
  async start (name: string, options: PeerOptions = {}): Promise<PeerProcess> {
    const peer = await PeerProcess.start({
      program: options.program ?? 'peer.ts',
      label: name,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      args: [
        '--data-dir', join(this.dir, name),
        '--swarm-key', options.swarmKeyPath ?? this.swarmKeyPath,
        '--service-tag', this.serviceTag,
        '--listen', options.listen ?? '/ip4/127.0.0.1/tcp/0',
        ...(options.args ?? [])
      ]
    })
    this.peers.set(name, peer)
    return peer
  }

  /** Writes a new swarm key next to the farm's, for a machine that is not of this studio. */
  async otherSwarmKey (): Promise<string> {
    const path = join(this.dir, `other-${randomBytes(4).toString('hex')}.key`)
    await writeSwarmKey(path)
    return path
  }

  /** Kills what still runs and deletes the directory; for `test.after.always`. */
  async destroy (): Promise<void> {
    for (const peer of this.peers.values()) peer.kill()
    await Promise.all([...this.peers.values()].map(async (peer) => peer.exited))
    await rm(this.dir, { recursive: true, force: true })
  }
}

export async function stateOf (peer: PeerProcess): Promise<PeerState> {
  return peer.request<PeerState>('state')
}

/**
 * Waits until every peer holds the same events (equal version vectors) and the same farm
 * state (equal state hashes), with at least `events` events; returns that common state.
 */
export async function converged (peers: readonly PeerProcess[], events: number): Promise<PeerState> {
  return waitUntil(async () => {
    const states = await Promise.all(peers.map(stateOf))
    const [first, ...rest] = states
    if (first === undefined || eventCount(first.vv) < events) return undefined
    const same = rest.every((state) => state.stateHash === first.stateHash && sameVector(state.vv, first.vv))
    return same ? first : undefined
  }, `${peers.map((peer) => peer.label).join(', ')} to converge on ${events} events`, peers)
}

/** Waits until each peer is connected to every other one. */
export async function fullyConnected (peers: readonly PeerProcess[]): Promise<void> {
  await waitUntil(async () => {
    const states = await Promise.all(peers.map(stateOf))
    const all = states.every((state, index) => peers.every((other, otherIndex) =>
      otherIndex === index || state.connected.includes(other.id)))
    return all ? true : undefined
  }, `${peers.map((peer) => peer.label).join(', ')} to connect to each other`, peers)
}

function sameVector (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}
