/**
 * Recovering a node, end to end, in real `cr node` processes: a node whose store was
 * deleted (its identity.key kept) or lost its tail (an older copy put back) gets its own
 * feed back from its peers before it writes anything, continues that chain rather than
 * forking it, and redoes no finished work: no claim on a DONE, ERROR or disabled job, no
 * frame of a finished job written again. Afterwards it renders new work as before.
 */
import { cp, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { loadIdentity } from '../../src/node/identity.js'
import { readFarmKey } from '../../src/node/mesh/swarm-key.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import type { EventBody } from '../../src/protocol/events.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import type { FarmView, JobView } from '../../src/protocol/view.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm, type NodeProcess } from '../helpers/render-farm.js'

/** Lets the last gossip settle before the nodes stop; never a deadline under test. */
const SETTLE_MS = 1500
/** What would show a fork or a refused feed in a node's log. */
const OFFENCE_MESSAGES = ['dropped bad input', 'peer banned', 'fact has no effect']

interface OwnEvent {
  readonly seq: number
  readonly body: EventBody
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

function jobIn (view: FarmView, id: string): JobView | undefined {
  return view.jobs.find((job) => job.id === id)
}

async function untilStatus (farm: RenderFarm, id: string, status: JobView['status']): Promise<JobView> {
  return farm.until((view) => {
    const job = jobIn(view, id)
    return job?.status === status ? job : undefined
  }, `job ${id} ${status}`)
}

/** `author`'s events the observer holds after `afterSeq`, in feed order. */
async function eventsOf (farm: RenderFarm, author: string, afterSeq: number): Promise<OwnEvent[]> {
  const { store } = await farm.observer()
  const found: OwnEvent[] = []
  for await (const verified of store.allEvents()) {
    const { author: writer, seq, body } = verified.event
    if (writer === author && seq > afterSeq) found.push({ seq, body })
  }
  return found.sort((a, b) => a.seq - b.seq)
}

/** A stopped node's store, opened as the node would. */
async function storeOf (farm: RenderFarm, node: NodeProcess): Promise<EventStore> {
  const dataDir = path.join(farm.dir, node.name)
  const { founder } = await readFarmKey(farm.swarmKeyFile)
  return EventStore.open(storeDirOf(dataDir), signerFromKey(await loadIdentity(dataDir, { create: false })), { authority: { founder } })
}

/**
 * How long a stopped node's own feed is in its store, once the observer holds all of it
 * too: what its peers hold of it, which a recovering node must continue.
 */
async function ownFeedOf (farm: RenderFarm, node: NodeProcess): Promise<number> {
  const store = await storeOf(farm, node)
  const length = store.versionVector()[node.peerId] ?? 0
  await store.close()
  const { store: observer } = await farm.observer()
  await farm.until(() => (observer.versionVector()[node.peerId] ?? 0) >= length ? true : undefined, `${node.name}'s feed of ${length} at the observer`)
  return length
}

/** Each frame's inode and modification time (a rewritten frame changes one or both); the target's bookkeeping files aside. */
async function frameStamps (dir: string): Promise<Record<string, string>> {
  const stamps: Record<string, string> = {}
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.png')).sort()) {
    const { ino, mtimeMs } = await stat(path.join(dir, file))
    stamps[file] = `${ino}@${mtimeMs}`
  }
  return stamps
}

async function stopNode (node: NodeProcess): Promise<void> {
  node.signal('SIGTERM')
  await node.exited
}

/** Stops the running nodes and returns every store's state hash and version vector, the observer's first. */
async function finalStates (farm: RenderFarm, running: readonly NodeProcess[]): Promise<{ name: string, stateHash: string, vv: Record<string, number> }[]> {
  await sleep(SETTLE_MS)
  await Promise.all(running.map(stopNode))
  const { store: observer } = await farm.observer()
  const states = [{ name: 'observer', stateHash: observer.stateHash(), vv: { ...observer.versionVector() } }]
  for (const node of running) {
    const store = await storeOf(farm, node)
    states.push({ name: node.name, stateHash: store.stateHash(), vv: { ...store.versionVector() } })
    await store.close()
  }
  return states
}

/** Every store holds the observer's events and state: no feed forked, nothing refused. */
function sameEverywhere (t: ExecutionContext, states: readonly { name: string, stateHash: string, vv: Record<string, number> }[]): void {
  const [observer, ...nodes] = states
  if (observer === undefined) throw new Error('no observer state')
  for (const state of nodes) {
    t.is(state.stateHash, observer.stateHash, `${state.name} holds the farm's state`)
    t.deepEqual(state.vv, observer.vv, `${state.name} holds the farm's events`)
  }
}

function noOffences (t: ExecutionContext, nodes: readonly NodeProcess[]): void {
  for (const node of nodes) {
    for (const msg of OFFENCE_MESSAGES) t.is(node.messages.get(msg) ?? 0, 0, `${node.name} logged "${msg}"`)
  }
}

test.serial('a node whose store was deleted recovers its own feed from its peers and redoes no finished work', async (t) => {
  t.timeout(240_000)
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 16, height: 9, frameDelayMs: 50 })
  const nodes = await Promise.all(['render01', 'render02', 'render03'].map(async (name) => farm.startNode(name)))
  const framesOf = (name: string): string => path.join(farm.dir, 'frames', name)
  const procedural = (name: string, overrides: Parameters<typeof jobSpec>[0]) =>
    jobSpec({ name, software: 'procedural', scenePath: scene, targetPath: framesOf(name), imageName: name, imageFormat: 'png', ...overrides })
  const done = await farm.submit(procedural('done', { frameStart: 1, frameEnd: 12, blockSize: 2 }))
  // Its scene is missing: the first block fails fatally, which disables the job (Error Return); the rest stay queued.
  const failed = await farm.submit(procedural('failed', { scenePath: path.join(farm.dir, 'missing.json'), frameStart: 1, frameEnd: 4, blockSize: 1 }))
  const disabled = await farm.submit(procedural('disabled', { frameStart: 1, frameEnd: 4, blockSize: 1, enabled: false }))
  const finished = await untilStatus(farm, done.id, 'DONE')
  const errored = await untilStatus(farm, failed.id, 'ERROR')
  t.true(errored.blocks.some((block) => block.status === 'QUEUE'), 'the ERROR job has blocks a node on a partial view would take')

  // The node that finished most blocks has the longest feed to lose.
  const finishes = (node: NodeProcess): number => finished.blocks.filter((block) => block.finishedBy === node.peerId).length
  const victim = [...nodes].sort((a, b) => finishes(b) - finishes(a))[0]
  if (victim === undefined) throw new Error('no node')
  const others = nodes.filter((node) => node !== victim)
  await stopNode(victim)
  const feedBefore = await ownFeedOf(farm, victim)
  t.true(feedBefore > 1, 'the victim wrote more than its settings')
  const framesBefore = await frameStamps(framesOf('done'))
  t.is(Object.keys(framesBefore).length, 12)

  await rm(storeDirOf(path.join(farm.dir, victim.name)), { recursive: true })
  const restartedAt = Date.now()
  const back = await farm.startNode(victim.name)
  t.log(`recovered and ready in ${Date.now() - restartedAt} ms`)
  t.is(back.peerId, victim.peerId, 'the identity was kept')
  // Its stderr is read as it comes: the lines written before it was ready may still be on their way.
  for (const msg of ['recovering the log from peers', 'recovered from peers']) {
    t.true(await farm.until(() => back.messages.has(msg) ? true : undefined, `"${msg}" in ${back.name}'s log`))
  }

  // Its first event after the restart continues its own chain, and says so in `cr logs`.
  const recorded = await waitForEventAfter(farm, victim.peerId, feedBefore)
  t.is(recorded.seq, feedBefore + 1)
  t.is(recorded.body.type, 'log.recorded')
  if (recorded.body.type === 'log.recorded') t.regex(recorded.body.description, new RegExp(`recovered .* own feed of ${feedBefore} events`))

  // New work still reaches it: with the others blocked, it renders a new job alone.
  for (const other of others) await farm.write({ type: 'node.settings', node: other.peerId, changes: { blocked: true } })
  const probe = await farm.submit(procedural('probe', { frameStart: 1, frameEnd: 4, blockSize: 2 }))
  const probeDone = await untilStatus(farm, probe.id, 'DONE')
  t.deepEqual(probeDone.blocks.map((block) => block.finishedBy), probeDone.blocks.map(() => victim.peerId))

  const claimedSince = (await eventsOf(farm, victim.peerId, feedBefore)).flatMap(({ body }) => body.type === 'block.claimed' ? [body.jobId] : [])
  t.true(claimedSince.length > 0)
  t.deepEqual(claimedSince.filter((jobId) => jobId !== probe.id), [], 'no claim on a DONE, ERROR or disabled job after the restart')
  t.deepEqual(await frameStamps(framesOf('done')), framesBefore, 'no frame of the DONE job was written again')
  const { store } = await farm.observer()
  t.is(jobIn(store.view(), failed.id)?.status, 'ERROR')
  t.is(jobIn(store.view(), disabled.id)?.status, 'QUEUE')
  t.true(jobIn(store.view(), disabled.id)?.blocks.every((block) => block.epoch === 0))
  noOffences(t, [...others, back])

  sameEverywhere(t, await finalStates(farm, [...others, back]))
})

test.serial('a node whose store lost its tail continues its own chain after what its peers hold', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 16, height: 9, frameDelayMs: 50 })
  const [node, peer] = await Promise.all([farm.startNode('render01'), farm.startNode('render02')])
  await farm.until((view) => view.nodes.length === 2 ? true : undefined, 'both nodes in the view')
  await stopNode(node)
  const dataDir = path.join(farm.dir, node.name)
  const backup = path.join(farm.dir, 'store-backup')
  await cp(storeDirOf(dataDir), backup, { recursive: true })
  const feedInBackup = await ownFeedOf(farm, node)

  // The node works on, so its feed grows past the copy.
  const again = await farm.startNode(node.name)
  await farm.write({ type: 'node.settings', node: peer.peerId, changes: { blocked: true } })
  const job = await farm.submit(jobSpec({ name: 'tail', software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames'), frameStart: 1, frameEnd: 4, blockSize: 2, imageName: 'tail', imageFormat: 'png' }))
  await untilStatus(farm, job.id, 'DONE')
  await stopNode(again)
  const feedLength = await ownFeedOf(farm, again)
  t.true(feedLength > feedInBackup)

  // The older copy goes back, and a changed config makes the node write its settings at start.
  await rm(storeDirOf(dataDir), { recursive: true })
  await cp(backup, storeDirOf(dataDir), { recursive: true })
  const restored = await farm.startNode(node.name, { render: { software: ['procedural', 'blender'] } })
  const settings = await waitForEventAfter(farm, node.peerId, feedLength)
  t.is(settings.seq, feedLength + 1, 'the first event after the restart follows the peers\' copy of its feed')
  t.is(settings.body.type, 'node.settings')
  noOffences(t, [peer, restored])

  sameEverywhere(t, await finalStates(farm, [peer, restored]))
})

/** The first event `author` wrote after `seq`, once the observer has it. */
async function waitForEventAfter (farm: RenderFarm, author: string, seq: number): Promise<OwnEvent> {
  const { store } = await farm.observer()
  await farm.until(() => (store.versionVector()[author] ?? 0) > seq ? true : undefined, `an event of ${author} after #${seq}`)
  const [next] = await eventsOf(farm, author, seq)
  if (next === undefined) throw new Error(`the observer's vector shows ${author} past #${seq} but it holds no such event`)
  return next
}
