/**
 * No master, measured on real processes (printed, never asserted): how long a block
 * stays dark after its holder is killed (SIGKILL) or hangs (SIGSTOP) until another node
 * renders it, over many trials; and how often idle nodes' claims collide. Each trial is a
 * fresh farm of render-node processes on loopback, rendering with the built-in renderer.
 * Beside it, the same collisions in the deterministic simulator (test/sim), over seeds of
 * every fault profile, for a figure free of this machine's noise. The three are separate
 * benches in bench/index.ts (takeover, claims, sim), so one failing costs only its figures.
 * Must run inside the private network namespace: `npm run bench` does.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { writeProceduralScene } from '../src/render/index.js'
import { jobSpec } from '../test/helpers/farm-events.js'
import { RenderFarm } from '../test/helpers/render-farm.js'
import { runSeed, type RunResult } from '../test/sim/sim.js'
import { formatMs, percentile, printTables, type Row } from './report.js'
import type { BenchReport, FigureId, Figures } from './results.js'

type Fault = 'SIGKILL' | 'SIGSTOP'

/** The summary figures of each fault: p50 and p99. */
const FAULT_FIGURES: Readonly<Record<Fault, { readonly p50: FigureId, readonly p99: FigureId }>> = {
  SIGKILL: { p50: 'takeover.killP50Ms', p99: 'takeover.killP99Ms' },
  SIGSTOP: { p50: 'takeover.hangP50Ms', p99: 'takeover.hangP99Ms' }
}

/** Up to ten renderer processes share two cores: enough blocks for a rate, few enough to finish. */
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

/** Idle nodes of a settled farm and a job of many one-frame blocks: claims per block beyond the first. */
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

/** Kill and hang trials: how long the faulty holder's block stays dark. */
export async function runTakeoverBench (options: { readonly trials?: number } = {}): Promise<BenchReport> {
  const trials = options.trials ?? 20
  const rows: Row[] = []
  let figures: Figures = {}
  for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
    const times: number[] = []
    for (let index = 0; index < trials; index++) times.push(await trial(fault))
    const target = fault === 'SIGKILL' ? 'target p99 < 5 s' : 'target < 10 s'
    const [p50, p99] = [percentile(times, 0.5), percentile(times, 0.99)]
    rows.push([`${fault} to block rendering elsewhere, p50`, formatMs(p50), `${trials} trials`])
    rows.push([`${fault} to block rendering elsewhere, p99`, formatMs(p99), target])
    figures = { ...figures, [FAULT_FIGURES[fault].p50]: { value: p50, note: `${trials} trials` }, [FAULT_FIGURES[fault].p99]: { value: p99, note: `${trials} trials` } }
  }
  return { tables: [{ title: 'No master: a faulty holder\'s block rendering again elsewhere (3 node processes on loopback)', rows }], figures }
}

/** Claim collisions among idle node processes, and false takeovers with both cores saturated. */
export async function runClaimsBench (options: { readonly nodes: number }): Promise<BenchReport> {
  const { extra, blocks } = await collisions(options.nodes, COLLISION_BLOCKS)
  const busy = await falseTakeovers(BUSY_BLOCKS)
  const perThousand = (1000 * extra) / blocks
  const collided = `${extra} extra claims over ${blocks} one-frame blocks, ${options.nodes} idle node processes`
  return {
    tables: [{
      title: 'No master: claims and false takeovers',
      rows: [
        [`claim collisions, ${options.nodes} idle node processes`, `${perThousand.toFixed(1)} /1000 blocks`, `${collided}; target < 10`],
        ['false takeovers, both cores saturated', String(busy.takeovers), `over ${busy.blocks} blocks of 3 s on 3 nodes; target 0`]
      ]
    }],
    figures: {
      'takeover.collisionsPer1000': { value: perThousand, note: collided },
      'takeover.falseTakeovers': { value: busy.takeovers, note: `over ${busy.blocks} blocks` }
    }
  }
}

/**
 * Claim collisions in the simulator: seeds 1..`seeds`, each under the fault profile its
 * seed picks (test/sim/run.ts's matrix), summed over every block the runs rendered.
 */
export async function runSimulatedClaimsBench (options: { readonly seeds: number }): Promise<BenchReport> {
  const results: RunResult[] = []
  for (let seed = 1; seed <= options.seeds; seed++) results.push(await runSeed({ seed }))
  const sum = (pick: (result: RunResult) => number): number => results.reduce((total, result) => total + pick(result), 0)
  const blocks = sum((result) => result.figures.blocks)
  const collided = sum((result) => result.figures.collisions)
  const falseDeaths = sum((result) => result.figures.falseDeaths)
  const failed = results.filter((result) => result.violations.length > 0).length
  const perThousand = blocks === 0 ? 0 : (1000 * collided) / blocks
  const runs = `${results.length} seeds, ${blocks} blocks, profiles ${[...new Set(results.map((result) => result.profile))].join(', ')}`
  return {
    tables: [{
      title: 'No master, simulated: claims over seeds of every fault profile (test/sim)',
      rows: [
        ['claim collisions', `${perThousand.toFixed(1)} /1000 blocks`, `${collided} over ${runs}`],
        ['dead verdicts on nodes heard alive', String(falseDeaths), 'target 0'],
        ['seeds with a violated invariant', String(failed), `replay with npm run sim -- --seeds ${options.seeds}`]
      ]
    }],
    figures: {
      'sim.collisionsPer1000': { value: perThousand, note: runs },
      'sim.falseDeaths': { value: falseDeaths, note: `${failed} of ${results.length} seeds violated an invariant` }
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const trialsArg = process.argv.indexOf('--trials')
  printTables((await runTakeoverBench(trialsArg === -1 ? {} : { trials: Number(process.argv[trialsArg + 1]) })).tables)
  printTables((await runClaimsBench({ nodes: 10 })).tables)
}
