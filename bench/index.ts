/**
 * `npm run bench`: every benchmark, each printing its own tables, then one summary of
 * every figure the open issues set, against its target, also written to bench/RESULTS.md
 * (bench/results.ts). Figures are printed, never asserted.
 *
 *   npm run bench -- [--small] [--only NAME,...] [--restart-1m] [--export-full]
 *
 * `--small` runs fewer trials and smaller data sets (the catch-up of 100,000 events keeps
 * its size: the target is set at it); `--only` runs the named benches (BENCH_NAMES), its
 * summary saying which figures were not run, and leaves RESULTS.md to whole runs;
 * `--restart-1m` times a restart with 1,000,000 events stored; `--export-full` exports
 * the 100,000-job farm the export's target is set at. Both build their stores for
 * minutes first.
 */
import { parseArgs } from 'node:util'
import { runCommandsBench } from './commands.js'
import { runDispatchBench } from './dispatch.js'
import { exportBenchJobs, runExportBench } from './export.js'
import { runIdleBench } from './idle.js'
import { runMeshBench } from './mesh.js'
import { runRenderBench } from './render.js'
import { printTables, type BenchTable } from './report.js'
import { BENCH_NAMES, describeMachine, machineLine, summarize, summaryText, writeResults, type BenchName, type BenchOutcome, type BenchReport } from './results.js'
import { runScaleBench } from './scale.js'
import { runSpineBench } from './spine.js'
import { runClaimsBench, runSimulatedClaimsBench, runTakeoverBench } from './takeover.js'
import { runTuiBench } from './tui.js'
import { runViewsBench } from './views.js'

const RESULTS_FILE = new URL('./RESULTS.md', import.meta.url)

const args = process.argv.slice(2)
const { values } = parseArgs({
  args,
  options: {
    small: { type: 'boolean', default: false },
    only: { type: 'string' },
    'restart-1m': { type: 'boolean', default: false },
    'export-full': { type: 'boolean', default: false }
  }
})
const small = values.small

/** How each bench runs: each returns its tables and its figures for the summary. */
const RUNS: Readonly<Record<BenchName, () => Promise<BenchReport>>> = {
  spine: async () => runSpineBench({ restart1m: values['restart-1m'] }),
  views: async () => runViewsBench(),
  render: async () => runRenderBench({ small }),
  mesh: async () => runMeshBench({ small }),
  tui: async () => runTuiBench(),
  commands: async () => runCommandsBench(),
  takeover: async () => runTakeoverBench({ trials: small ? 5 : 20 }),
  // Ten node processes at once overload a shared 2-core machine into false deaths; --small runs five.
  claims: async () => runClaimsBench({ nodes: small ? 5 : 10 }),
  sim: async () => runSimulatedClaimsBench({ seeds: small ? 8 : 40 }),
  scale: async () => runScaleBench(),
  export: async () => runExportBench({ jobs: exportBenchJobs(args) }),
  dispatch: async () => runDispatchBench(),
  idle: async () => runIdleBench()
}

function chosenBenches (only: string | undefined): readonly BenchName[] {
  if (only === undefined) return BENCH_NAMES
  const names = only.split(',')
  const unknown = names.filter((name) => !BENCH_NAMES.some((known) => known === name))
  if (unknown.length > 0) throw new RangeError(`--only: no bench called ${unknown.join(', ')}; the benches are ${BENCH_NAMES.join(', ')}`)
  return BENCH_NAMES.filter((name) => names.includes(name))
}

/** Runs one bench; a failure is reported and costs only that bench's figures, not the whole run's. */
async function runBench (name: BenchName): Promise<{ outcome: BenchOutcome, tables: readonly BenchTable[] }> {
  try {
    const result = await RUNS[name]()
    printTables(result.tables)
    return { outcome: { kind: 'measured', figures: result.figures }, tables: result.tables }
  } catch (error) {
    console.error(`\nbench ${name} failed:`, error)
    process.exitCode = 1
    return { outcome: { kind: 'missing', why: `bench ${name} failed: ${(error as Error).message.split('\n')[0] ?? ''}` }, tables: [] }
  }
}

const startedAt = new Date()
const outcomes = new Map<BenchName, BenchOutcome>()
const tables: BenchTable[] = []
for (const name of chosenBenches(values.only)) {
  const { outcome, tables: benchTables } = await runBench(name)
  outcomes.set(name, outcome)
  tables.push(...benchTables)
}
const machine = await describeMachine()
const summary = summarize(outcomes)
console.log(`\nSummary (${machineLine(machine)})\n`)
console.log(summaryText(summary))
if (values.only === undefined) {
  await writeResults(RESULTS_FILE, { startedAt, args, machine, summary, tables })
  console.log(`\nwritten to ${RESULTS_FILE.pathname}`)
}
