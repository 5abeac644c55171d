/**
 * Dispatch at the speed of the work, measured on real processes (printed, never asserted):
 * a farm of `cr node` processes on loopback renders one job of many one-frame blocks whose
 * renderer takes next to no time (`touch` through the command template), and we read from
 * the log and the nodes' own log lines how fast blocks went through and how long a node
 * took from finishing one block to running its next renderer.
 * Must run inside the private network namespace: `npm run bench` does, or
 * `bash scripts/in-netns.sh npx tsx bench/dispatch.ts [--nodes 3,5] [--blocks 300]`.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import type { VerifiedEvent } from '../src/protocol/events.js'
import { jobSpec } from '../test/helpers/farm-events.js'
import { RenderFarm, type NodeProcess } from '../test/helpers/render-farm.js'
import { formatMs, median, percentile, printTables, type Row } from './report.js'
import type { BenchReport, Figures, Measured } from './results.js'

const DEFAULT_BLOCKS = 300
const DEFAULT_NODE_COUNTS = [3, 5] as const
/** Long enough for every node to have heard every other's heartbeats before the job lands. */
const SETTLED_FARM_MS = 3_000
/** A renderer that takes no time: it writes the frame the block expects (an empty one counts as missing) and exits. */
const ZERO_TIME_TEMPLATE = ['sh', '-c', 'echo frame > "$0"', '{outdir}/{image}_{frame:4}.png']

interface DispatchFigures {
  readonly nodes: number
  readonly blocks: number
  /** Blocks over the time from the first block started to the last finished, by the log's stamps. */
  readonly blocksPerS: number
  readonly submitToDoneMs: number
  /** Per node, from its `block.finished` stamp to its next `block.started` stamp. */
  readonly eventGapsMs: readonly number[]
  /** Per node, from its "block finished" log line (the renderer ended) to its next "rendering" line (the renderer starting). */
  readonly logGapsMs: readonly number[]
  /** Claims beyond one per block and epoch. */
  readonly extraClaims: number
  /** CPU the node processes spent from submit to done, per block: what the figures cost, whatever else loads the machine. */
  readonly nodeCpuMsPerBlock: number
  /** CPU of the renderers (and their guardians) over the same time, per block. */
  readonly rendererCpuMsPerBlock: number
}

/** Linux reports process times in units of USER_HZ, 100 a second on every architecture. */
const USER_HZ = 100

/** A process's CPU so far from /proc: its own, and that of its children it has waited for (the renderers). */
async function cpuMsOf (pid: number | undefined): Promise<{ readonly ownMs: number, readonly childrenMs: number }> {
  if (pid === undefined) throw new RangeError('a node process without a pid')
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which may hold spaces, closed by the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number)
  const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15)
  return { ownMs: ((utime + stime) * 1000) / USER_HZ, childrenMs: ((cutime + cstime) * 1000) / USER_HZ }
}

async function farmCpuMs (nodes: readonly NodeProcess[]): Promise<{ readonly ownMs: number, readonly childrenMs: number }> {
  const each = await Promise.all(nodes.map(async (node) => cpuMsOf(node.child.pid)))
  return { ownMs: each.reduce((sum, cpu) => sum + cpu.ownMs, 0), childrenMs: each.reduce((sum, cpu) => sum + cpu.childrenMs, 0) }
}

/** Collects `msg` → times of a node's JSON log lines on stderr, for the whole of its life. */
function logTimes (node: NodeProcess, wanted: readonly string[]): Map<string, number[]> {
  const times = new Map(wanted.map((msg) => [msg, [] as number[]]))
  if (node.child.stderr === null) return times
  createInterface({ input: node.child.stderr }).on('line', (line) => {
    if (!line.startsWith('{')) return
    const record = JSON.parse(line) as { msg?: unknown, time?: unknown }
    if (typeof record.msg === 'string' && typeof record.time === 'string') times.get(record.msg)?.push(Date.parse(record.time))
  })
  return times
}

/** Gaps from each `ends` time to the first `starts` time after it (the node's next block). */
function gapsToNext (ends: readonly number[], starts: readonly number[]): number[] {
  const sortedStarts = [...starts].sort((a, b) => a - b)
  return ends.flatMap((end) => {
    const next = sortedStarts.find((start) => start >= end)
    return next === undefined ? [] : [next - end]
  })
}

async function dispatchRun (nodeCount: number, blocks: number): Promise<DispatchFigures> {
  const farm = await RenderFarm.create()
  try {
    const names = Array.from({ length: nodeCount }, (_, index) => `n${index}`)
    const nodes = await Promise.all(names.map(async (name) => farm.startNode(name, { render: { software: ['command'] } })))
    const logs = nodes.map((node) => logTimes(node, ['block finished', 'rendering']))
    await farm.until((view) => view.nodes.length >= nodeCount ? true : undefined, 'every node in the client table')
    await new Promise((resolve) => setTimeout(resolve, SETTLED_FARM_MS))
    const cpuBefore = await farmCpuMs(nodes)
    const submittedMs = Date.now()
    const job = await farm.submit(jobSpec({
      software: 'command', commandTemplate: ZERO_TIME_TEMPLATE, targetPath: path.join(farm.dir, 'frames'),
      frameStart: 1, frameEnd: blocks, blockSize: 1, imageName: 'dispatch', imageFormat: 'png'
    }))
    await farm.until((view) => view.jobs.find((candidate) => candidate.id === job.id && candidate.status === 'DONE'), 'the job done')
    const submitToDoneMs = Date.now() - submittedMs
    const cpuAfter = await farmCpuMs(nodes)
    const { store } = await farm.observer()
    const events: VerifiedEvent[] = []
    for await (const verified of store.allEvents()) events.push(verified)
    const ofJob = events.filter(({ event: { body } }) => 'jobId' in body && body.jobId === job.id && 'block' in body)
    const stamps = (type: string, author?: string): number[] => ofJob
      .filter(({ event }) => event.body.type === type && (author === undefined || event.author === author))
      .map(({ event }) => event.wallTime)
    const started = stamps('block.started')
    const finished = stamps('block.finished')
    const spanMs = Math.max(...finished) - Math.min(...started)
    const claims = new Map<string, number>()
    for (const { event: { body } } of ofJob) {
      if (body.type !== 'block.claimed') continue
      const key = `${body.block}/${body.epoch}`
      claims.set(key, (claims.get(key) ?? 0) + 1)
    }
    return {
      nodes: nodeCount,
      blocks,
      blocksPerS: (1000 * blocks) / spanMs,
      submitToDoneMs,
      eventGapsMs: nodes.flatMap((node) => gapsToNext(stamps('block.finished', node.peerId), stamps('block.started', node.peerId))),
      logGapsMs: logs.flatMap((times) => gapsToNext(times.get('block finished') ?? [], times.get('rendering') ?? [])),
      extraClaims: [...claims.values()].reduce((sum, count) => sum + count - 1, 0),
      nodeCpuMsPerBlock: (cpuAfter.ownMs - cpuBefore.ownMs) / blocks,
      rendererCpuMsPerBlock: (cpuAfter.childrenMs - cpuBefore.childrenMs) / blocks
    }
  } finally {
    await farm.destroy()
  }
}

/** What one farm size adds to the summary: the catalogue sets its figures at 3 and 5 nodes, on DEFAULT_BLOCKS blocks. */
function summaryFigures (run: DispatchFigures, overheadP50Ms: number): Figures {
  const sample = `${run.blocks} blocks`
  const measured = (value: number, note: string): Measured => ({
    value,
    note,
    ...(run.blocks === DEFAULT_BLOCKS ? {} : { unjudged: `the target is at ${DEFAULT_BLOCKS} blocks` })
  })
  switch (run.nodes) {
    case 3: return {
      'dispatch.3.blocksPerS': measured(run.blocksPerS, `${sample}, first start to last finish`),
      'dispatch.3.submitToDoneMs': measured(run.submitToDoneMs, `${sample}, to job DONE as the observer saw it`),
      'dispatch.3.overheadP50Ms': measured(overheadP50Ms, `${run.logGapsMs.length} gaps from the nodes' log lines`),
      'dispatch.3.collisions': measured(run.extraClaims, sample)
    }
    case 5: return { 'dispatch.5.blocksPerS': measured(run.blocksPerS, `${sample}, first start to last finish`) }
    default: return {}
  }
}

/** Runs the dispatch bench on farms of each size in `nodeCounts`: one table, and the summary's figures of the sizes it names. */
export async function runDispatchBench (options: { readonly nodeCounts?: readonly number[], readonly blocks?: number } = {}): Promise<BenchReport> {
  const blocks = options.blocks ?? DEFAULT_BLOCKS
  const rows: Row[] = []
  let figures: Figures = {}
  for (const nodeCount of options.nodeCounts ?? DEFAULT_NODE_COUNTS) {
    const run = await dispatchRun(nodeCount, blocks)
    const target = nodeCount >= 5 ? 'target >= 150 /s' : 'target >= 60 /s'
    const overheadP50Ms = median(run.logGapsMs)
    rows.push(
      [`${nodeCount} nodes: blocks/s, first start to last finish`, `${run.blocksPerS.toFixed(1)} /s`, `${blocks} zero-time one-frame blocks; ${target}`],
      [`${nodeCount} nodes: submit to job DONE`, formatMs(run.submitToDoneMs), 'as the observer saw it'],
      [`${nodeCount} nodes: renderer ended to next renderer starting, p50`, formatMs(overheadP50Ms), `p90 ${formatMs(percentile(run.logGapsMs, 0.9))}, ${run.logGapsMs.length} gaps from the nodes' log lines; target < 20 ms`],
      [`${nodeCount} nodes: block.finished to next block.started, p50`, formatMs(median(run.eventGapsMs)), `p90 ${formatMs(percentile(run.eventGapsMs, 0.9))}, by the log's stamps`],
      [`${nodeCount} nodes: claim collisions`, String(run.extraClaims), 'claims beyond one per block and epoch'],
      [`${nodeCount} nodes: CPU per block, node processes`, formatMs(run.nodeCpuMsPerBlock), `all nodes together, submit to done; renderers ${formatMs(run.rendererCpuMsPerBlock)}`]
    )
    figures = { ...figures, ...summaryFigures(run, overheadP50Ms) }
  }
  return { tables: [{ title: 'Dispatch: zero-time one-frame blocks on real node processes (loopback)', rows }], figures }
}

function argument (name: string): string | undefined {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const nodes = argument('--nodes')
  const blocks = argument('--blocks')
  const { tables } = await runDispatchBench({
    ...(nodes === undefined ? {} : { nodeCounts: nodes.split(',').map(Number) }),
    ...(blocks === undefined ? {} : { blocks: Number(blocks) })
  })
  printTables(tables)
}
