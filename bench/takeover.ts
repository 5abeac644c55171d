/**
 * No master, measured on real processes (printed, never asserted): how long a block
 * stays dark after its holder is killed (SIGKILL) or hangs (SIGSTOP) until another node
 * renders it, over many trials; and how often idle nodes' claims collide. Each trial is a
 * fresh farm of render-node processes on loopback, rendering with the built-in renderer.
 * Must run inside the private network namespace: `npm run bench` does.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { writeProceduralScene } from '../src/render/index.js'
import { jobSpec } from '../test/helpers/farm-events.js'
import { RenderFarm } from '../test/helpers/render-farm.js'
import { formatMs, percentile, printTable } from './report.js'

type Fault = 'SIGKILL' | 'SIGSTOP'

/** Ten renderer processes share two cores: enough blocks for a rate, few enough to finish. */
const COLLISION_BLOCKS = 60
/** Long enough for every node to have heard every other's heartbeats. */
const SETTLED_FARM_MS = 3_000
const BUSY_BLOCKS = 12

/** One trial: a 3-node farm, one block; fault its holder; ms until another node renders the block. */
async function trial (fault: Fault): Promise<number> {
  const farm = await RenderFarm.create()
  try {
    const { lease, holder, blockOf } = await farm.renderOneBlock(['a', 'b', 'c'], { frameDelayMs: 4000, frames: 2 })
    const faultAt = Date.now()
    holder.signal(fault)
    await farm.until((view) => {
      const now = blockOf(view)
      return now?.status === 'RENDERING' && now.lease !== null && now.lease.epoch > lease.epoch ? now.lease : undefined
    }, 'the block rendering elsewhere')
    const darkMs = Date.now() - faultAt
    if (fault === 'SIGSTOP') holder.signal('SIGCONT')
    return darkMs
  } finally {
    await farm.destroy()
  }
}

/** Ten idle nodes of a settled farm and a job of many one-frame blocks: claims per block beyond the first. */
async function collisions (nodeCount: number, blocks: number): Promise<{ extra: number, blocks: number }> {
  const farm = await RenderFarm.create()
  try {
    const scene = path.join(farm.dir, 'scene.json')
    await writeProceduralScene(scene, { width: 4, height: 4, frameDelayMs: 500 })
    await Promise.all(Array.from({ length: nodeCount }, async (_, index) => farm.startNode(`n${index}`)))
    // A farm that has been up a while: every node in the client table, heartbeats heard all round.
    await farm.until((view) => view.nodes.length >= nodeCount ? true : undefined, 'every node in the client table')
    await new Promise((resolve) => setTimeout(resolve, SETTLED_FARM_MS))
    const job = await farm.submit(jobSpec({ software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames'), frameStart: 1, frameEnd: blocks, blockSize: 1, imageName: 'c', imageFormat: 'png' }))
    await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
    const { store } = await farm.observer()
    const claims = new Map<string, number>()
    for await (const { event } of store.allEvents()) {
      if (event.body.type !== 'block.claimed' || event.body.jobId !== job.id) continue
      const key = `${event.body.block}/${event.body.epoch}`
      claims.set(key, (claims.get(key) ?? 0) + 1)
    }
    return { extra: [...claims.values()].reduce((sum, count) => sum + count - 1, 0), blocks }
  } finally {
    await farm.destroy()
  }
}

/**
 * False takeovers: three healthy nodes render while two busy loops saturate both cores;
 * a block claimed again at a higher epoch although its holder neither failed nor released
 * it was taken from a live node.
 */
async function falseTakeovers (blocks: number): Promise<{ takeovers: number, blocks: number }> {
  const hogs = Array.from({ length: 2 }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  const farm = await RenderFarm.create()
  try {
    const scene = path.join(farm.dir, 'scene.json')
    await writeProceduralScene(scene, { width: 8, height: 8, frameDelayMs: 1500 })
    await Promise.all(['a', 'b', 'c'].map(async (name) => farm.startNode(name)))
    const job = await farm.submit(jobSpec({ software: 'procedural', scenePath: scene, targetPath: path.join(farm.dir, 'frames'), frameStart: 1, frameEnd: blocks * 2, blockSize: 2, imageName: 'busy', imageFormat: 'png' }))
    await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
    const { store } = await farm.observer()
    const ended = new Set<string>()
    const claimed = new Set<string>()
    for await (const { event: { body } } of store.allEvents()) {
      if (!('epoch' in body) || body.jobId !== job.id) continue
      if (body.type === 'block.failed' || body.type === 'block.released') ended.add(`${body.block}/${body.epoch}`)
      if (body.type === 'block.claimed') claimed.add(`${body.block}/${body.epoch}`)
    }
    const takeovers = [...claimed].filter((key) => {
      const [block = '', epoch = '0'] = key.split('/')
      return Number(epoch) > 1 && !ended.has(`${block}/${Number(epoch) - 1}`)
    }).length
    return { takeovers, blocks }
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL')
    await farm.destroy()
  }
}

export async function runTakeoverBench (options: { readonly trials?: number } = {}): Promise<void> {
  const trials = options.trials ?? 20
  const rows: [string, string, string?][] = []
  for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
    const times: number[] = []
    for (let index = 0; index < trials; index++) times.push(await trial(fault))
    const target = fault === 'SIGKILL' ? 'target p99 < 5 s' : 'target < 10 s'
    rows.push([`${fault} to block rendering elsewhere, p50`, formatMs(percentile(times, 0.5)), `${trials} trials`])
    rows.push([`${fault} to block rendering elsewhere, p99`, formatMs(percentile(times, 0.99)), target])
  }
  printTable('No master: a faulty holder\'s block rendering again elsewhere (3 node processes on loopback)', rows)
  const { extra, blocks } = await collisions(10, COLLISION_BLOCKS)
  const busy = await falseTakeovers(BUSY_BLOCKS)
  printTable('No master: claims and false takeovers', [
    ['claim collisions, 10 idle node processes', `${((1000 * extra) / blocks).toFixed(1)} /1000 blocks`, `${extra} extra claims over ${blocks} one-frame blocks; target < 10`],
    ['false takeovers, both cores saturated', String(busy.takeovers), `over ${busy.blocks} blocks of 3 s on 3 nodes; target 0`]
  ])
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const trialsArg = process.argv.indexOf('--trials')
  await runTakeoverBench(trialsArg === -1 ? {} : { trials: Number(process.argv[trialsArg + 1]) })
}
