/**
 * What an idle render node costs its machine (printed, never asserted): three real
 * `cr node` processes on an empty farm on loopback settle, then each one's resident memory
 * and CPU time (utime + stime, from /proc) are sampled over a window. Targets (issue 14):
 * < 90 MB resident and < 0.5 % of a core per node. Resident memory is shown whole and
 * private: the rest is the Node binary's pages, shared by every Node process on the machine.
 * `cr node` runs the compiled bundle only while dist/ is current (bin/cr.js); the table
 * says which one ran, since tsx alone adds tens of MB. Linux only (/proc). Must run inside
 * the private network namespace: `bash scripts/in-netns.sh npx tsx bench/idle.ts`.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { RenderFarm } from '../test/helpers/render-farm.js'
import { median, printTables } from './report.js'
import type { BenchReport } from './results.js'

const NODES = ['a', 'b', 'c']
/** Start-up work (recovery, first heartbeats, mDNS, the scrub) is over by then. */
const SETTLE_MS = 10_000
const WINDOW_MS = 30_000
const SAMPLE_MS = 1_000
/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on every Linux build). */
const CLOCK_TICKS_PER_S = 100

interface Sample {
  readonly atMs: number
  readonly cpuTicks: number
  readonly rssKb: number
  /** Resident and not backed by a file: the node's own heap and allocations. */
  readonly privateKb: number
}

function statusKb (status: string, field: string): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]
  if (kb === undefined) throw new Error(`no ${field} in /proc status`)
  return Number(kb)
}

/** One reading of a process: its CPU ticks so far (/proc/<pid>/stat) and resident set (/proc/<pid>/status). */
async function sample (pid: number): Promise<Sample> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'latin1'), readFile(`/proc/${pid}/status`, 'latin1')])
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuTicks = Number(fields[11]) + Number(fields[12])
  return { atMs: performance.now(), cpuTicks, rssKb: statusKb(status, 'VmRSS'), privateKb: statusKb(status, 'RssAnon') }
}

interface IdleUsage {
  readonly node: string
  readonly medianRssMb: number
  readonly medianPrivateMb: number
  /** Percent of one core over the whole window. */
  readonly cpuPercent: number
}

/** Samples every process at once, each `SAMPLE_MS`, over `WINDOW_MS`. */
async function measure (pids: readonly number[]): Promise<Sample[][]> {
  const samples: Sample[][] = pids.map(() => [])
  const endsAt = performance.now() + WINDOW_MS
  for (;;) {
    const taken = await Promise.all(pids.map(sample))
    taken.forEach((reading, index) => { samples[index]?.push(reading) })
    if (performance.now() >= endsAt) return samples
    await sleep(SAMPLE_MS)
  }
}

function usageOf (node: string, samples: readonly Sample[]): IdleUsage {
  const first = samples[0]
  const last = samples.at(-1)
  if (first === undefined || last === undefined) throw new Error(`no samples of node ${node}`)
  const cpuSeconds = (last.cpuTicks - first.cpuTicks) / CLOCK_TICKS_PER_S
  return {
    node,
    medianRssMb: median(samples.map(({ rssKb }) => rssKb)) / 1024,
    medianPrivateMb: median(samples.map(({ privateKb }) => privateKb)) / 1024,
    cpuPercent: (cpuSeconds * 1000 / (last.atMs - first.atMs)) * 100
  }
}

/** Whether bin/cr.js will run the compiled bundle: dist/ stamped after the newest source file, as it decides. */
export function runsCompiled (): boolean {
  const stamp = new URL('../dist/.built', import.meta.url)
  const sources = fileURLToPath(new URL('../src/', import.meta.url))
  if (!existsSync(stamp)) return false
  if (!existsSync(sources)) return true
  const builtMs = statSync(stamp).mtimeMs
  return readdirSync(sources, { recursive: true, withFileTypes: true })
    .every((entry) => !entry.isFile() || statSync(path.join(entry.parentPath, entry.name)).mtimeMs <= builtMs)
}

/** The mesh a studio runs (mDNS at its default interval, not the farm helper's brisk test one), on loopback. */
function productionMesh (farm: RenderFarm): Record<string, unknown> {
  return { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag: farm.mdnsTag } }
}

export async function runIdleBench (): Promise<BenchReport> {
  const compiled = runsCompiled()
  const farm = await RenderFarm.create()
  try {
    const nodes = await Promise.all(NODES.map(async (name) => farm.startNode(name, { mesh: productionMesh(farm) })))
    await sleep(SETTLE_MS)
    const pids = nodes.map(({ name, child }) => {
      if (child.pid === undefined) throw new Error(`node ${name} has no process id`)
      return child.pid
    })
    const usages = (await measure(pids)).map((samples, index) => usageOf(nodes[index]?.name ?? String(index), samples))
    const how = `${compiled ? 'compiled dist/' : 'under tsx (dist/ older than src/)'}, ${WINDOW_MS / 1000} s after ${SETTLE_MS / 1000} s to settle`
    const idleRssMb = median(usages.map(({ medianRssMb }) => medianRssMb))
    const idleCpuPercent = median(usages.map(({ cpuPercent }) => cpuPercent))
    const sample = `median of ${usages.length} nodes; ${how}`
    return {
      tables: [{
        title: `Idle render nodes: ${NODES.length} \`cr node\` processes on an empty farm on loopback`,
        rows: [
          ...usages.map(({ node, medianRssMb, medianPrivateMb, cpuPercent }): [string, string, string] => [`node ${node}: resident memory, CPU`, `${medianRssMb.toFixed(0)} MB, ${cpuPercent.toFixed(2)} %`, `median RSS, ${medianPrivateMb.toFixed(0)} MB of it private; CPU of one core over the window`]),
          ['idle node resident memory, median', `${idleRssMb.toFixed(0)} MB`, `target < 90 MB; ${how}`],
          ['idle node CPU, median', `${idleCpuPercent.toFixed(2)} %`, 'of one core; target < 0.5 %']
        ]
      }],
      figures: {
        // The target is a shipped node's: tsx's loader alone adds tens of MB, so memory under it says little.
        'idle.rssMb': { value: idleRssMb, note: sample, ...(compiled ? {} : { unjudged: 'the target is the compiled bundle\'s (npm run build)' }) },
        'idle.cpuPercent': { value: idleCpuPercent, note: sample }
      }
    }
  } finally {
    await farm.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTables((await runIdleBench()).tables)
