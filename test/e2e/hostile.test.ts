/**
 * A hostile key holder on a real farm: a rogue process with the swarm key joins two real
 * render nodes while they render, and states every fact it has no right to (halting,
 * re-prioritising and deleting another's job, finishing and failing blocks it does not
 * hold, claiming far past the current epoch, granting itself the wrangler role, blocking
 * the nodes), then poisons the clock and floods garbage. The farm renders on as if it
 * were not there, every peer ends with the same state, and the rogue is banned.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { loadIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import { readFarmKey } from '../../src/node/mesh/swarm-key.js'
import type { EventBody } from '../../src/protocol/events.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from '../helpers/farm-events.js'
import { PeerProcess, waitUntil } from '../helpers/peer-process.js'
import { RenderFarm } from '../helpers/render-farm.js'

const BLOCKS = 6
const FRAMES_PER_BLOCK = 2

test.serial('a rogue key holder states facts it has no right to: the farm renders on, converges, and bans it', async (t) => {
  t.timeout(240_000)
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 16, height: 9, frameDelayMs: 400 })
  const nodes = await Promise.all(['render01', 'render02'].map(async (name) => farm.startNode(name)))
  const rogue = await PeerProcess.start({
    program: 'rogue-peer.ts',
    label: 'rogue',
    args: ['--data-dir', path.join(farm.dir, 'rogue'), '--swarm-key', farm.swarmKeyFile, '--service-tag', farm.mdnsTag, '--listen', '/ip4/127.0.0.1/tcp/0']
  })
  t.teardown(() => { rogue.kill() })
  await rogue.request('serve', { mode: 'own' })
  await waitUntil(async () => {
    const { count } = await rogue.request<{ count: number }>('subscribers')
    return count >= nodes.length ? true : undefined
  }, 'the nodes to subscribe at the rogue', [rogue])

  const target = path.join(farm.dir, 'frames')
  const job = await farm.submit(jobSpec({
    name: 'hostile', software: 'procedural', scenePath: scene, targetPath: target,
    frameStart: 1, frameEnd: BLOCKS * FRAMES_PER_BLOCK, blockSize: FRAMES_PER_BLOCK, imageName: 'hostile', imageFormat: 'png', priority: 50
  }))
  await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id)?.status === 'RENDERING' ? true : undefined, 'the job rendering')
  const block = { jobId: job.id, block: 0, epoch: 1 }
  const attacks: EventBody[] = [
    { type: 'job.edited', jobId: job.id, changes: { halted: true, priority: 0, enabled: false } },
    { type: 'job.deleted', jobId: job.id },
    { type: 'block.finished', ...block, wallMs: 1, frameMs: Array.from({ length: FRAMES_PER_BLOCK }, () => 1) },
    { type: 'block.failed', ...block, block: 1, failure: 'fatal', message: 'the rogue says the scene is gone', outputTail: [] },
    { type: 'block.released', ...block, reason: 'the rogue wants it' },
    { type: 'block.claimed', ...block, block: 2, epoch: 1_000_000_000 },
    { type: 'role.changed', peer: rogue.id, role: 'wrangler', granted: true },
    ...nodes.map((node): EventBody => ({ type: 'node.settings', node: node.peerId, changes: { blocked: true, software: ['command'] } }))
  ]
  for (const body of attacks) await rogue.request('fact', { body })
  // Every node takes the facts in, and gives them no effect.
  const { store } = await farm.observer()
  await farm.until(() => (store.versionVector()[rogue.id] ?? 0) >= attacks.length ? true : undefined, 'the rogue\'s facts to reach the observer')
  const during = store.view().jobs.find((candidate) => candidate.id === job.id)
  t.like(during, { halted: false, enabled: true, priority: 50 })
  t.false(store.view().wranglers.includes(rogue.id))
  t.true(store.view().nodes.filter((node) => node.id !== rogue.id).every((node) => !node.blocked))

  // A clock at the limit of numbers would make every honest node's next event one that peers refuse.
  await rogue.request('fact', { body: { type: 'log.recorded', clientName: 'rogue', jobId: null, block: null, description: 'poison', outputTail: [] }, lamport: Number.MAX_SAFE_INTEGER })

  const done = await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
  t.is(done.framesDone, BLOCKS * FRAMES_PER_BLOCK)
  const honest = new Set(nodes.map((node) => node.peerId))
  t.true(done.blocks.every((each) => each.finishedBy !== null && honest.has(each.finishedBy)), 'every block finished by an honest node')
  t.is((await readdir(target)).filter((file) => file.endsWith('.png')).length, BLOCKS * FRAMES_PER_BLOCK)
  for (const node of nodes) t.true((node.messages.get('fact has no effect') ?? 0) >= 1, `${node.name} logs the facts without effect`)

  // Garbage costs points: the rogue is banned. Gossip may miss a peer now and then, so it
  // keeps sending until every node has banned it.
  await waitUntil(async () => {
    if (nodes.every((node) => (node.messages.get('peer banned') ?? 0) > 0)) return true
    await rogue.request('gossip', { kind: 'garbled', count: 10 }).catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 500))
    return undefined
  }, 'the nodes to ban the rogue', [rogue])

  // Every peer holds the same state: the nodes' stores, read once they stop, and the observer's.
  for (const node of nodes) node.signal('SIGTERM')
  await Promise.all(nodes.map(async (node) => node.exited))
  const { founder } = await readFarmKey(farm.swarmKeyFile)
  for (const node of nodes) {
    const dataDir = path.join(farm.dir, node.name)
    const stopped = await EventStore.open(storeDirOf(dataDir), signerFromKey(await loadIdentity(dataDir, { create: false })), { authority: { founder } })
    t.deepEqual(stopped.versionVector(), store.versionVector(), `${node.name} holds what the observer holds: the rogue's feed up to the poison, not beyond`)
    t.is(stopped.stateHash(), store.stateHash(), `${node.name} is converged with the observer`)
    await stopped.close()
  }
})
