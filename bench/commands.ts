/**
 * How long a `cr` command takes, whole process, as an artist types it (printed, never
 * asserted): a read (`cr jobs`), a write (`cr submit`) and a steering write (`cr job
 * halt`), each run many times against a settled farm of one render node on loopback from
 * an artist's data directory of its own. Targets (issues "wrangler" and "fast path"):
 * under 1.5 s from an artist's machine, under 0.5 s on a machine that runs a node.
 * Must run inside the private network namespace: `npm run bench` does.
 */
import { pathToFileURL } from 'node:url'
import { crAt, startCliFarm, type CliFarm } from '../test/fixtures/cli/cr.js'
import { formatMs, median, percentile, printTable } from './report.js'

const RUNS = 10
const ARTIST = 'artist'

type Row = readonly [string, string, string?]

async function timed (farm: CliFarm, args: readonly string[]): Promise<{ ms: number, stdout: string }> {
  const startMs = performance.now()
  const result = await crAt(farm.bed, ARTIST, args)
  const ms = performance.now() - startMs
  if (result.exitCode !== 0) throw new Error(`cr ${args.join(' ')} exited ${String(result.exitCode)}: ${result.stderr}`)
  return { ms, stdout: result.stdout }
}

function submitArgs (farm: CliFarm, index: number): string[] {
  return ['submit', '--name', `bench_${index}`, '--project', 'bench', '--software', 'blender', '--scene', farm.scene, '--target', '/renders/bench', '--frames', '1-4', '--disabled']
}

function rows (what: string, samples: readonly number[]): Row[] {
  return [[`${what}, median`, formatMs(median(samples)), `${samples.length} runs; p90 ${formatMs(percentile(samples, 0.9))}`]]
}

export async function runCommandsBench (): Promise<void> {
  const farm = await startCliFarm('bench.blend')
  try {
    // The first command makes the artist's identity and takes the whole log: not what a settled artist meets.
    await timed(farm, ['jobs'])
    const reads: number[] = []
    const submits: number[] = []
    const halts: number[] = []
    for (let run = 0; run < RUNS; run++) {
      reads.push((await timed(farm, ['jobs'])).ms)
      const submitted = await timed(farm, submitArgs(farm, run))
      submits.push(submitted.ms)
      const shortId = /job ([0-9a-f]{8})/.exec(submitted.stdout)?.[1]
      if (shortId === undefined) throw new Error(`no job id in ${submitted.stdout}`)
      halts.push((await timed(farm, ['job', 'halt', shortId])).ms)
    }
    printTable('Commands: one cr process each, from an artist\'s machine to a settled farm on loopback', [
      ...rows('cr jobs (read)', reads),
      ...rows('cr submit (write)', submits),
      ...rows('cr job halt (write)', halts)
    ])
  } finally {
    await farm.bed.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runCommandsBench()
