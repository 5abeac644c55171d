/**
 * The whole farm, end to end, in real processes: render nodes that find each other over
 * mDNS, share a job with nobody in charge, render it with a real renderer (the built-in
 * procedural one, a child process writing PNGs), and take over from a node that dies.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { writeProceduralScene } from '../../src/render/index.js'
import type { JobView } from '../../src/protocol/view.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm } from '../helpers/render-farm.js'

test.serial('three nodes render a 24-frame job in blocks of 4: every frame lands, times and logs are kept', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'scene.json')
  await writeProceduralScene(scene, { width: 32, height: 18, frameDelayMs: 50 })
  await Promise.all(['render01', 'render02', 'render03'].map(async (name) => farm.startNode(name)))
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
  let finishedRows = 0
  for await (const verified of store.allEvents()) if (verified.event.body.type === 'block.finished') finishedRows++
  t.true(finishedRows >= 6)
})

test.serial('a holder killed mid-render (SIGKILL) loses its block to another node, which renders it again', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const { job, holder } = await farm.renderOneBlock(['a', 'b', 'c'], { frameDelayMs: 1500, frames: 4 })
  holder.signal('SIGKILL')
  const done = await farm.until((view) => view.jobs.find((candidate): candidate is JobView => candidate.id === job.id && candidate.status === 'DONE'), 'the block rendered again')
  t.not(done.blocks[0]?.finishedBy, holder.peerId)
  t.true((done.blocks[0]?.epoch ?? 0) >= 2)
})

test.serial('a hung holder (SIGSTOP) is hailed, declared dead and taken over; woken, it stops at once', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const { job, lease, holder, blockOf } = await farm.renderOneBlock(['a', 'b', 'c'], { frameDelayMs: 2000, frames: 4 })
  holder.signal('SIGSTOP')
  const takeover = await farm.until((view) => {
    const now = blockOf(view)?.lease
    return now !== null && now !== undefined && now.epoch > lease.epoch ? now : undefined
  }, 'a takeover at a higher epoch')
  t.not(takeover.holder, holder.peerId)
  holder.signal('SIGCONT')
  const done = await farm.until((view) => view.jobs.find((candidate): candidate is JobView => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
  t.is(done.blocks[0]?.finishedBy, takeover.holder)
  const stopped = await farm.until(() => holder.logged('stopping the renderer') ? true : undefined, 'the woken holder to stop its renderer')
  t.true(stopped, 'the woken holder stopped its renderer')
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
