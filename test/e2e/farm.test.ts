/**
 * The whole farm, end to end, in real processes: render nodes that find each other over
 * mDNS, share a job with nobody in charge, render it with a real renderer (the built-in
 * procedural one, a child process writing PNGs), and take over from a node that dies.
 * Counts are exact: every block finishes once in the log, and every renderer a node
 * started is accounted for (it finished, failed or was stopped, and its processes are gone).
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { writeProceduralScene } from '../../src/render/index.js'
import type { JobView } from '../../src/protocol/view.js'
import { jobSpec } from '../helpers/farm-events.js'
import { descendantsOf, msUntilGone } from '../helpers/processes.js'
import { RenderFarm, type NodeProcess } from '../helpers/render-farm.js'

/** Issue 12: no renderer of a node outlives it, or a SIGCONT that tells it to stop, by more than this. */
const RENDERER_GONE_MS = 2_000
/** How long a node's last log lines may trail the observer's view of the event they precede. */
const LOG_SETTLE_MS = 5_000

/** How often each node logged starting a renderer, and how those renders ended. */
function renderCounts (nodes: readonly NodeProcess[]): { started: number, finished: number, failed: number, stopped: number } {
  const sum = (msg: string): number => nodes.reduce((total, node) => total + (node.messages.get(msg) ?? 0), 0)
  return { started: sum('rendering'), finished: sum('block finished'), failed: sum('block failed'), stopped: sum('stopping the renderer') }
}

/** Waits (briefly) until every renderer the nodes started has ended one way or another, and returns the counts. */
async function accountedRenders (nodes: readonly NodeProcess[]): Promise<ReturnType<typeof renderCounts>> {
  const giveUpAt = Date.now() + LOG_SETTLE_MS
  for (;;) {
    const counts = renderCounts(nodes)
    if (counts.started === counts.finished + counts.failed + counts.stopped || Date.now() > giveUpAt) return counts
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** `block.finished` events in the observer's log, by block index of `jobId`, with their authors. */
async function finishesOf (farm: RenderFarm, jobId: string): Promise<Map<number, string[]>> {
  const { store } = await farm.observer()
  const finishes = new Map<number, string[]>()
  for await (const verified of store.allEvents()) {
    const { author, body } = verified.event
    if (body.type === 'block.finished' && body.jobId === jobId) finishes.set(body.block, [...(finishes.get(body.block) ?? []), author])
  }
  return finishes
}

/** The node's renderer processes: everything below the node process. */
async function renderersOf (node: NodeProcess): Promise<number[]> {
  if (node.child.pid === undefined) throw new Error(`node ${node.name} has no pid`)
  return descendantsOf(node.child.pid)
}

/** No process of any node's renderer is left once the farm is idle. */
async function assertNoRenderersLeft (t: ExecutionContext, nodes: readonly NodeProcess[]): Promise<void> {
  const left = (await Promise.all(nodes.map(renderersOf))).flat()
  t.deepEqual(left, [], 'renderer processes left behind')
}

test.serial('three nodes render a 24-frame job in blocks of 4: every frame lands, times and logs are kept', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 32, height: 18, frameDelayMs: 50 })
  const nodes = await Promise.all(['render01', 'render02', 'render03'].map(async (name) => farm.startNode(name)))
  const target = path.join(farm.dir, 'frames')
  const job = await farm.submit(jobSpec({ name: 'demo', software: 'procedural', scenePath: scene, targetPath: target, frameStart: 1, frameEnd: 24, blockSize: 4, imageName: 'demo', imageFormat: 'png' }))
  const done = await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id && candidate.status === 'DONE'), 'finished job')
  t.is(done.framesDone, 24)
  t.true((done.renderTime.averageFrameMs ?? 0) > 0)
  const files = (await readdir(target)).filter((file) => file.endsWith('.png'))
  t.is(files.length, 24)
  const { store } = await farm.observer()
  const renderers = store.view().nodes.filter((node) => node.renderTime.frames > 0)
  t.true(renderers.length >= 1)
  t.is(renderers.reduce((sum, node) => sum + node.renderTime.frames, 0), 24)
  const finishes = await finishesOf(farm, job.id)
  t.deepEqual([...finishes.keys()].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5])
  t.deepEqual([...finishes.values()].map((authors) => authors.length), [1, 1, 1, 1, 1, 1], 'every block finished exactly once')
  // Each block rendered once: no claim collision got as far as a second renderer.
  t.deepEqual(await accountedRenders(nodes), { started: 6, finished: 6, failed: 0, stopped: 0 })
  await assertNoRenderersLeft(t, nodes)
})

test.serial('a holder killed mid-render (SIGKILL) loses its block to another node, which renders it again; its renderer dies with it', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  // Frames slow enough that the renderer writes nothing for seconds: it cannot die of a closed pipe in time.
  const { job, holder, nodes } = await farm.renderOneBlock(['a', 'b', 'c'], { frameDelayMs: 4000, frames: 2 })
  const renderers = await renderersOf(holder)
  t.true(renderers.length > 0, 'the holder has a renderer running')
  holder.signal('SIGKILL')
  await holder.exited
  const goneMs = await msUntilGone(renderers, 30_000)
  t.true(goneMs < RENDERER_GONE_MS, `the killed holder's renderer lived on for ${Math.round(goneMs)} ms`)
  const done = await farm.until((view) => view.jobs.find((candidate): candidate is JobView => candidate.id === job.id && candidate.status === 'DONE'), 'the block rendered again')
  t.not(done.blocks[0]?.finishedBy, holder.peerId)
  t.true((done.blocks[0]?.epoch ?? 0) >= 2)
  const finishes = await finishesOf(farm, job.id)
  t.deepEqual(finishes.get(0), [done.blocks[0]?.finishedBy], 'the block finished once, by the node that took it over')
  const survivors = nodes.filter((node) => node !== holder)
  const counts = await accountedRenders(survivors)
  t.is(counts.started, counts.finished + counts.failed + counts.stopped, 'every renderer the survivors started ended')
  t.is(counts.finished, 1)
  await assertNoRenderersLeft(t, survivors)
})

test.serial('a hung holder (SIGSTOP) is hailed, declared dead and taken over; woken, it stops at once', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  // Long enough that the holder's renderer is still at work when the holder wakes.
  const { job, lease, holder, blockOf, nodes } = await farm.renderOneBlock(['a', 'b', 'c'], { frameDelayMs: 4000, frames: 4 })
  holder.signal('SIGSTOP')
  const takeover = await farm.until((view) => {
    const now = blockOf(view)?.lease
    return now !== null && now !== undefined && now.epoch > lease.epoch ? now : undefined
  }, 'a takeover at a higher epoch')
  t.not(takeover.holder, holder.peerId)
  const renderers = await renderersOf(holder)
  t.true(renderers.length > 0, 'the hung holder\'s renderer is still there when it wakes')
  holder.signal('SIGCONT')
  const goneMs = await msUntilGone(renderers, 30_000)
  t.true(goneMs < RENDERER_GONE_MS, `the woken holder's renderer lived on for ${Math.round(goneMs)} ms after SIGCONT`)
  const done = await farm.until((view) => view.jobs.find((candidate): candidate is JobView => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
  t.is(done.blocks[0]?.finishedBy, takeover.holder)
  const finishes = await finishesOf(farm, job.id)
  t.deepEqual(finishes.get(0), [takeover.holder], 'the block finished once, by the node that took it over')
  t.deepEqual(await accountedRenders([holder]), { started: 1, finished: 0, failed: 0, stopped: 1 })
  const counts = await accountedRenders(nodes)
  t.is(counts.started, counts.finished + counts.failed + counts.stopped, 'every renderer started ended')
  await assertNoRenderersLeft(t, nodes)
})

test.serial('SIGTERM on a rendering node releases its block, and another node takes it at once', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const { lease, holder, blockOf } = await farm.renderOneBlock(['a', 'b'], { frameDelayMs: 1500, frames: 2 })
  holder.signal('SIGTERM')
  await holder.exited
  const next = await farm.until((view) => {
    const now = blockOf(view)?.lease
    return now !== null && now !== undefined && now.holder !== holder.peerId ? now : undefined
  }, 'another node holding the block')
  t.is(next.epoch, lease.epoch + 1)
  const { store } = await farm.observer()
  const released = []
  for await (const verified of store.allEvents()) if (verified.event.body.type === 'block.released' && verified.event.author === holder.peerId) released.push(verified)
  t.is(released.length, 1)
})
