/**
 * How long a `cr` command takes, whole process, as a person types it (printed, never
 * asserted): a read (`cr jobs`), a write (`cr submit`) and a steering write (`cr job
 * halt`), each run many times against a settled farm of one real render node on loopback,
 * from a data directory of their own:
 *  - on an artist's machine: the command joins the mesh (mDNS), catches up, and leaves;
 *  - on the node's machine: a read is answered by the node's live copy over its local
 *    endpoint, and a write opens only its own store, catches up from the node and relays
 *    its signed event through the node, all over that endpoint: no mesh of its own.
 * Targets (issues "wrangler" and "fast path"): under 1.5 s from an artist's machine, under
 * 0.5 s on a machine that runs a node. Must run inside the private network namespace.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { RenderFarm } from '../test/helpers/render-farm.js'
import { runsCompiled } from './idle.js'
import { formatMs, median, percentile, printTables, type Row } from './report.js'
import type { BenchReport, FigureId, Figures, Measured } from './results.js'

const CR = fileURLToPath(new URL('../bin/cr.js', import.meta.url))
const RUNS = 10

interface Machine {
  readonly label: string
  /** XDG_DATA_HOME: where this machine's default node data directory is. */
  readonly dataHome: string
  readonly dataDir: string
  /** The summary's ids for this machine's read and write (it sets no target for a halt). */
  readonly figures: { readonly read: FigureId, readonly submit: FigureId }
}

interface Section {
  readonly rows: readonly Row[]
  readonly figures: Figures
}

async function timed (farm: RenderFarm, machine: Machine, args: readonly string[]): Promise<{ ms: number, stdout: string }> {
  const startMs = performance.now()
  const result = await execa(process.execPath, [CR, ...args], {
    reject: false,
    env: { XDG_DATA_HOME: machine.dataHome, CR_DATA_DIR: machine.dataDir, CR_SWARM_KEY: farm.swarmKeyFile, CR_MDNS_TAG: farm.mdnsTag, CR_LISTEN: '/ip4/127.0.0.1/tcp/0' }
  })
  const ms = performance.now() - startMs
  if (result.exitCode !== 0) throw new Error(`cr ${args.join(' ')} exited ${String(result.exitCode)}: ${result.stderr}`)
  return { ms, stdout: result.stdout }
}

async function measure (farm: RenderFarm, machine: Machine, scene: string, compiled: boolean): Promise<Section> {
  // The first command makes the identity and takes the whole log: not what a settled user meets.
  await timed(farm, machine, ['jobs'])
  const samples = { read: [] as number[], submit: [] as number[], halt: [] as number[] }
  for (let run = 0; run < RUNS; run++) {
    samples.read.push((await timed(farm, machine, ['jobs'])).ms)
    const submitted = await timed(farm, machine, ['submit', '--name', `bench_${run}`, '--project', 'bench', '--software', 'blender', '--scene', scene, '--target', '/renders/bench', '--frames', '1-4', '--disabled'])
    samples.submit.push(submitted.ms)
    const shortId = /job ([0-9a-f]{8})/.exec(submitted.stdout)?.[1]
    if (shortId === undefined) throw new Error(`no job id in ${submitted.stdout}`)
    samples.halt.push((await timed(farm, machine, ['job', 'halt', shortId])).ms)
  }
  const row = (what: string, values: readonly number[]): Row => [`${machine.label}: ${what}, median`, formatMs(median(values)), `${values.length} runs; p90 ${formatMs(percentile(values, 0.9))}`]
  // The targets are the compiled bundle's: under tsx every command first loads a TypeScript loader.
  const figure = (values: readonly number[]): Measured => ({
    value: median(values),
    note: `median of ${values.length}; ${compiled ? 'compiled dist/' : 'under tsx (dist/ older than src/)'}`,
    ...(compiled ? {} : { unjudged: 'the target is the compiled bundle\'s (npm run build)' })
  })
  return {
    rows: [row('cr jobs', samples.read), row('cr submit', samples.submit), row('cr job halt', samples.halt)],
    figures: { [machine.figures.read]: figure(samples.read), [machine.figures.submit]: figure(samples.submit) }
  }
}

export async function runCommandsBench (): Promise<BenchReport> {
  const compiled = runsCompiled()
  const farm = await RenderFarm.create()
  try {
    const nodeHome = path.join(farm.dir, 'node-machine')
    const artistHome = path.join(farm.dir, 'artist-machine')
    await mkdir(path.join(nodeHome, 'constellation', 'node'), { recursive: true })
    await mkdir(artistHome, { recursive: true })
    // Rendering off: the jobs here are for timing commands, not renders.
    await farm.startNode('render-01', { dataDir: path.join(nodeHome, 'constellation', 'node'), render: { enabled: false } })
    const scene = path.join(farm.dir, 'bench.blend')
    await writeFile(scene, 'a scene')
    const sections = [
      await measure(farm, { label: 'artist\'s machine', dataHome: artistHome, dataDir: path.join(artistHome, 'cr'), figures: { read: 'read.artistMachineMs', submit: 'submit.artistMachineMs' } }, scene, compiled),
      await measure(farm, { label: 'node\'s machine', dataHome: nodeHome, dataDir: path.join(nodeHome, 'cr'), figures: { read: 'read.nodeMachineMs', submit: 'submit.nodeMachineMs' } }, scene, compiled)
    ]
    return {
      tables: [{ title: 'Commands: one cr process each, against a settled farm of one render node on loopback', rows: sections.flatMap(({ rows }) => rows) }],
      figures: sections.reduce<Figures>((all, { figures }) => ({ ...all, ...figures }), {})
    }
  } finally {
    await farm.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTables((await runCommandsBench()).tables)
