/**
 * What a node agrees to run, end to end, in real `cr node` processes: a node whose config
 * does not list `command` never claims a `command` job, while one that lists it renders
 * it; each node states its list in the client table, and restates it when its config
 * changes. "Never" is proven by feed order, as in steering.test.ts: a job the observer
 * submitted after the `command` job is done, so both nodes had seen the `command` job.
 */
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import { DEFAULT_ACCEPTED_SOFTWARE, type FarmView, type JobView } from '../../src/protocol/view.js'
import { DELIVERY_RECORDS_DIR } from '../../src/render/contained.js'
import { writeProceduralScene } from '../../src/render/index.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm, type NodeProcess } from '../helpers/render-farm.js'

/** Writes its last argument, a frame file, as a renderer would. */
const WRITE_FRAME = "require('node:fs').writeFileSync(process.argv[1], 'frame')"

/** A job by name: its id comes from its submit event, not from the spec. */
async function untilDone (farm: RenderFarm, name: string): Promise<JobView> {
  return farm.until((view) => {
    const job = view.jobs.find((candidate) => candidate.name === name)
    return job?.status === 'DONE' ? job : undefined
  }, `the ${name} job done`)
}

function softwareOf (view: FarmView, node: NodeProcess): readonly string[] | undefined {
  return view.nodes.find((entry) => entry.id === node.peerId)?.software
}

test.serial('a node that does not list `command` never claims a `command` job; a node that lists it renders it', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const scene = path.join(farm.dir, 'probe.json')
  await writeProceduralScene(scene, { width: 8, height: 8, frameDelayMs: 50 })
  const [cautious, trusting] = await Promise.all([
    farm.startNode('cautious'),
    farm.startNode('trusting', { render: { software: ['command', 'procedural'] } })
  ])
  // Each node stated what it runs: the trusting one its list, the cautious one nothing (the default).
  await farm.until((view) => softwareOf(view, trusting)?.includes('command') === true && softwareOf(view, cautious) !== undefined ? true : undefined, 'both nodes in the client table')
  const { store } = await farm.observer()
  t.deepEqual(softwareOf(store.view(), cautious), DEFAULT_ACCEPTED_SOFTWARE)

  const target = path.join(farm.dir, 'frames', 'cmd')
  const command = jobSpec({
    name: 'cmd', software: 'command', scenePath: scene, targetPath: target, imageName: 'cmd', imageFormat: 'png',
    commandTemplate: [process.execPath, '-e', WRITE_FRAME, '{outdir}/{image}_{frame:4}.png'],
    frameStart: 1, frameEnd: 6, blockSize: 1, priority: 90
  })
  const probe = jobSpec({ name: 'probe', software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames', 'probe'), imageName: 'probe', imageFormat: 'png', frameStart: 1, frameEnd: 2, blockSize: 1, priority: 10 })
  await farm.submit(command)
  await farm.submit(probe)
  const done = await untilDone(farm, command.name)
  await untilDone(farm, probe.name)
  t.deepEqual(done.blocks.map((block) => block.finishedBy), done.blocks.map(() => trusting.peerId))
  t.deepEqual((await readdir(target)).filter((name) => name !== DELIVERY_RECORDS_DIR).sort(), [1, 2, 3, 4, 5, 6].map((frame) => `cmd_000${frame}.png`))
  const claimers = new Set<string>()
  for await (const verified of store.allEvents()) {
    const { author, body } = verified.event
    if (body.type === 'block.claimed' && body.jobId === done.id) claimers.add(author)
  }
  t.deepEqual([...claimers], [trusting.peerId], 'only the node that lists `command` claimed its blocks')
  t.false(cautious.logged('refusing to render'), 'the scheduler kept the cautious node off the job; the last guard never fired')

  // Restarted without `command` in its config, the node restates its list at once.
  trusting.signal('SIGTERM')
  await trusting.exited
  const restarted = await farm.startNode('trusting')
  t.is(restarted.peerId, trusting.peerId)
  const restated = await farm.until((view) => softwareOf(view, restarted)?.includes('command') === false ? softwareOf(view, restarted) : undefined, 'the restarted node restating its software')
  t.deepEqual(restated, DEFAULT_ACCEPTED_SOFTWARE)
})
