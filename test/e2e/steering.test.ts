/**
 * Steering the farm, end to end, in real `cr node` processes: halting and resuming a job,
 * disabling and enabling it, reordering the queue by priority, blocking a node, routing a
 * job by classification, and the working-hour schedule (a work-hours window's thread
 * limit reaching the renderer, a no-render window keeping a node idle).
 *
 * "Nothing happens" is proven without guessing at timing where the log allows it: one
 * author's events reach every peer in feed order, so a node that has finished a job the
 * observer submitted later has seen every earlier event of the observer's.
 */
import path from 'node:path'
import test from 'ava'
import type { JobFields } from '../../src/protocol/events.js'
import { WEEKDAYS, type ScheduleWindow } from '../../src/protocol/schedule.js'
import type { FarmView, JobView } from '../../src/protocol/view.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm, type NodeProcess } from '../helpers/render-farm.js'

/** A fixed, generous moment for "nothing happens" checks; never a deadline under test. */
const QUIET_MS = 3000

interface Claim {
  readonly author: string
  readonly seq: number
  readonly jobId: string
  readonly block: number
  readonly epoch: number
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Every block claim the observer holds, in each author's feed order. */
async function claimsIn (farm: RenderFarm): Promise<Claim[]> {
  const { store } = await farm.observer()
  const claims: Claim[] = []
  for await (const verified of store.allEvents()) {
    const { author, seq, body } = verified.event
    if (body.type === 'block.claimed') claims.push({ author, seq, jobId: body.jobId, block: body.block, epoch: body.epoch })
  }
  return claims.sort((a, b) => (a.author === b.author ? a.seq - b.seq : a.author < b.author ? -1 : 1))
}

function jobIn (view: FarmView, id: string): JobView | undefined {
  return view.jobs.find((job) => job.id === id)
}

async function untilDone (farm: RenderFarm, id: string, what: string): Promise<JobView> {
  return farm.until((view) => {
    const job = jobIn(view, id)
    return job?.status === 'DONE' ? job : undefined
  }, what)
}

/** Waits until the observer's view lists the node (its settings reached the observer). */
async function untilKnown (farm: RenderFarm, node: NodeProcess): Promise<void> {
  await farm.until((view) => view.nodes.some((entry) => entry.id === node.peerId) ? true : undefined, `node ${node.name} in the view`)
}

async function sceneFor (farm: RenderFarm, name: string, frameDelayMs: number): Promise<string> {
  const scene = path.join(farm.dir, `${name}.json`)
  await writeProceduralScene(scene, { width: 8, height: 8, frameDelayMs })
  return scene
}

function proceduralJob (farm: RenderFarm, scene: string, name: string, overrides: Partial<JobFields> = {}): JobFields {
  return jobSpec({ name, software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames', name), imageName: name, imageFormat: 'png', ...overrides })
}

function clock (minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}

/**
 * UTC windows that cover now and the next hour: today from an hour ago (not before
 * 00:00) to an hour ahead (not past 24:00), plus tomorrow's first hour when today's
 * window stops at midnight, so a run that crosses midnight stays inside.
 */
function windowsAroundNow (mode: ScheduleWindow['mode']): ScheduleWindow[] {
  const now = new Date()
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes()
  const today = WEEKDAYS[now.getUTCDay()] ?? 'sun'
  const tomorrow = WEEKDAYS[(now.getUTCDay() + 1) % 7] ?? 'sun'
  const end = Math.min(24 * 60, minute + 60)
  const windows: ScheduleWindow[] = [{ days: [today], start: clock(Math.max(0, minute - 60)), end: clock(end), mode }]
  if (end === 24 * 60) windows.push({ days: [tomorrow], start: '00:00', end: '01:00', mode })
  return windows
}

/** The fields of each `rendering` line in the node's recent stderr. */
function renderingLines (node: NodeProcess): Record<string, unknown>[] {
  return node.stderrTail
    .filter((line) => line.includes('"msg":"rendering"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

test.serial('halting a job stops new blocks (the running one is handed back or ends); resuming finishes it', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'halt', 800)
  const node = await farm.startNode('solo')
  const job = await farm.submit(proceduralJob(farm, scene, 'halt', { frameStart: 1, frameEnd: 4, blockSize: 1 }))
  await farm.until((view) => jobIn(view, job.id)?.blocks.some((block) => block.status === 'RENDERING') === true ? true : undefined, 'a block rendering')
  await farm.write({ type: 'job.edited', jobId: job.id, changes: { halted: true } })
  // Halt seen and nothing held: the node has taken the halt in (it let go of its block).
  const halted = await farm.until((view) => {
    const current = jobIn(view, job.id)
    return current?.status === 'HALT' && current.blocks.every((block) => block.lease === null) ? current : undefined
  }, 'the job halted with no block held')
  t.true(halted.blocks.some((block) => block.status !== 'DONE'), 'the job must not have finished before the halt')
  const before = await claimsIn(farm)
  const { store } = await farm.observer()
  for await (const verified of store.allEvents()) {
    const { body } = verified.event
    if (body.type === 'block.released' || body.type === 'block.finished') t.log(`before resume: ${body.type} block ${body.block} epoch ${body.epoch}${body.type === 'block.released' ? ` (${body.reason})` : ''}`)
  }
  await sleep(QUIET_MS)
  const after = await claimsIn(farm)
  t.deepEqual(after, before, 'no block was claimed while the job was halted')
  t.true(jobIn(store.view(), job.id)?.blocks.every((block) => block.lease === null))
  await farm.write({ type: 'job.edited', jobId: job.id, changes: { halted: false } })
  const done = await untilDone(farm, job.id, 'the resumed job done')
  t.is(done.framesDone, 4)
  t.true(done.blocks.every((block) => block.finishedBy === node.peerId))
  t.true((await claimsIn(farm)).length > before.length)
})

test.serial('a disabled job is not taken; enabled, it renders to DONE', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'scene', 50)
  const node = await farm.startNode('solo')
  const disabled = await farm.submit(proceduralJob(farm, scene, 'disabled', { frameStart: 1, frameEnd: 2, blockSize: 1, enabled: false, priority: 90 }))
  const probe = await farm.submit(proceduralJob(farm, scene, 'probe', { frameStart: 1, frameEnd: 1, blockSize: 1, priority: 10 }))
  // The node finished the probe, submitted after the disabled job: it has seen the disabled job and passed it over.
  await untilDone(farm, probe.id, 'the probe job done')
  await sleep(500)
  const { store } = await farm.observer()
  t.is(jobIn(store.view(), disabled.id)?.status, 'QUEUE')
  t.deepEqual((await claimsIn(farm)).filter((claim) => claim.jobId === disabled.id), [])
  await farm.write({ type: 'job.edited', jobId: disabled.id, changes: { enabled: true } })
  const done = await untilDone(farm, disabled.id, 'the enabled job done')
  t.is(done.framesDone, 2)
  t.true(done.blocks.every((block) => block.finishedBy === node.peerId))
})

test.serial('raising a waiting job\'s priority makes it the first taken', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'scene', 50)
  const node = await farm.startNode('solo')
  await untilKnown(farm, node)
  await farm.write({ type: 'node.settings', node: node.peerId, changes: { blocked: true } })
  const first = await farm.submit(proceduralJob(farm, scene, 'first', { frameStart: 1, frameEnd: 2, blockSize: 1, priority: 50 }))
  const raised = await farm.submit(proceduralJob(farm, scene, 'raised', { frameStart: 1, frameEnd: 2, blockSize: 1, priority: 40 }))
  await farm.write({ type: 'job.edited', jobId: raised.id, changes: { priority: 80 } })
  await farm.write({ type: 'node.settings', node: node.peerId, changes: { blocked: false } })
  await farm.until((view) => view.jobs.some((job) => job.blocks.some((block) => block.epoch > 0)) ? true : undefined, 'a first claim')
  const [firstClaim] = (await claimsIn(farm)).filter((claim) => claim.author === node.peerId)
  t.is(firstClaim?.jobId, raised.id)
  await untilDone(farm, raised.id, 'the raised job done')
  await untilDone(farm, first.id, 'the other job done')
  const { store } = await farm.observer()
  t.deepEqual(store.view().jobs.filter((job) => job.id === raised.id || job.id === first.id).map((job) => job.id), [raised.id, first.id])
})

test.serial('a blocked node takes nothing: every block is rendered by the unblocked node', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'scene', 100)
  const [open, blocked] = await Promise.all([farm.startNode('open'), farm.startNode('blocked')])
  await untilKnown(farm, blocked)
  await farm.write({ type: 'node.settings', node: blocked.peerId, changes: { blocked: true } })
  const job = await farm.submit(proceduralJob(farm, scene, 'blocked', { frameStart: 1, frameEnd: 4, blockSize: 1 }))
  const done = await untilDone(farm, job.id, 'the job done')
  t.deepEqual(done.blocks.map((block) => block.finishedBy), done.blocks.map(() => open.peerId))
  t.deepEqual((await claimsIn(farm)).filter((claim) => claim.author === blocked.peerId), [])
})

test.serial('classification routes a job only to nodes that accept its class', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'scene', 100)
  const [nodeA, nodeB] = await Promise.all([
    farm.startNode('class-a', { farm: { classifications: ['A'] } }),
    farm.startNode('class-b', { farm: { classifications: ['B'] } })
  ])
  const jobB = await farm.submit(proceduralJob(farm, scene, 'class-b', { frameStart: 1, frameEnd: 3, blockSize: 1, classification: 'B' }))
  const jobA = await farm.submit(proceduralJob(farm, scene, 'class-a', { frameStart: 1, frameEnd: 2, blockSize: 1, classification: 'A' }))
  const doneB = await untilDone(farm, jobB.id, 'the class-B job done')
  const doneA = await untilDone(farm, jobA.id, 'the class-A job done')
  t.deepEqual(doneB.blocks.map((block) => block.finishedBy), doneB.blocks.map(() => nodeB.peerId))
  t.deepEqual(doneA.blocks.map((block) => block.finishedBy), doneA.blocks.map(() => nodeA.peerId))
  const claims = await claimsIn(farm)
  t.deepEqual(claims.filter((claim) => claim.jobId === jobB.id && claim.author !== nodeB.peerId), [])
  t.deepEqual(claims.filter((claim) => claim.jobId === jobA.id && claim.author !== nodeA.peerId), [])
})

test.serial('working hours: a work-hours window\'s thread limit reaches the renderer; a no-render window keeps a node idle', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = await sceneFor(farm, 'scene', 200)
  const [day, night] = await Promise.all([
    farm.startNode('day', { timeZone: 'UTC', farm: { threadLimit: -1, workThreadLimit: 2, schedule: windowsAroundNow('work-hours') } }),
    farm.startNode('night', { timeZone: 'UTC', farm: { schedule: windowsAroundNow('no-render') } })
  ])
  const job = await farm.submit(proceduralJob(farm, scene, 'hours', { frameStart: 1, frameEnd: 3, blockSize: 1 }))
  const done = await untilDone(farm, job.id, 'the job done')
  t.deepEqual(done.blocks.map((block) => block.finishedBy), done.blocks.map(() => day.peerId))
  t.deepEqual((await claimsIn(farm)).filter((claim) => claim.author === night.peerId), [])
  const lines = renderingLines(day)
  t.true(lines.length >= 1, 'the day node logged its renders')
  t.deepEqual(lines.map((line) => line.threads), lines.map(() => 2))
  t.false(night.logged('rendering'))
})
