/**
 * The one summary `npm run bench` ends with: every figure the open issues set (issue 14
 * "fast path" and its targets, 13 "wrangler", 10 "reports", and the no-regression figures
 * of those before), each against its target with a pass or miss mark, printed and written
 * to bench/RESULTS.md with the date, the machine, the Node version and the commit.
 *
 * The catalogue below is the single list of those figures, in the order they are shown.
 * A bench hands over what it measured as `Figures`, keyed by the catalogue's ids; a figure
 * no bench handed over still gets its line, saying why it was not measured, so a gap shows
 * instead of silently shrinking the table.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { execa } from 'execa'
import type { BenchTable, Row } from './report.js'
import { formatMs } from './report.js'

/** The benches index.ts runs, by the name `--only` takes. */
export const BENCH_NAMES = ['spine', 'views', 'render', 'mesh', 'tui', 'commands', 'takeover', 'claims', 'sim', 'scale', 'export', 'dispatch', 'idle'] as const
export type BenchName = typeof BENCH_NAMES[number]

type Unit = 'ms' | 'per-s' | 'MB' | 'percent' | 'ratio' | 'count' | 'per-1000-blocks'

/** A figure is judged against a bound, or shown for information (the issue names it without a target). */
type Target =
  | { readonly kind: 'below', readonly limit: number }
  | { readonly kind: 'at-least', readonly limit: number }
  | { readonly kind: 'at-most', readonly limit: number }
  | { readonly kind: 'none', readonly context: string }

interface SummaryLine {
  readonly id: string
  readonly figure: string
  readonly unit: Unit
  readonly target: Target
  /** Which bench measures it; undefined when none does yet. */
  readonly bench: BenchName | undefined
  /** The option of `npm run bench` it needs, when it is too slow to measure by default. */
  readonly option?: string
}

const below = (limit: number): Target => ({ kind: 'below', limit })
const atLeast = (limit: number): Target => ({ kind: 'at-least', limit })
const atMost = (limit: number): Target => ({ kind: 'at-most', limit })
const none = (context: string): Target => ({ kind: 'none', context })

const CATALOGUE = [
  { id: 'dispatch.3.blocksPerS', figure: 'dispatch: 300 zero-time blocks, 3 nodes', unit: 'per-s', target: atLeast(60), bench: 'dispatch' },
  { id: 'dispatch.5.blocksPerS', figure: 'dispatch: 300 zero-time blocks, 5 nodes', unit: 'per-s', target: atLeast(150), bench: 'dispatch' },
  { id: 'dispatch.3.submitToDoneMs', figure: 'dispatch: 300 blocks, submit to all frames on disk, 3 nodes', unit: 'ms', target: none('was 60 s; Slurm 270 s'), bench: 'dispatch' },
  { id: 'dispatch.3.overheadP50Ms', figure: 'dispatch: renderer ended to next renderer running, p50', unit: 'ms', target: below(20), bench: 'dispatch' },
  { id: 'dispatch.3.collisions', figure: 'dispatch: claim collisions, 3 nodes', unit: 'count', target: none('claims beyond one per block and epoch'), bench: 'dispatch' },
  { id: 'submit.nodeMachineMs', figure: 'cr submit returns, on a node\'s machine', unit: 'ms', target: below(300), bench: 'commands' },
  { id: 'submit.artistMachineMs', figure: 'cr submit returns, from an artist\'s machine', unit: 'ms', target: below(1_000), bench: 'commands' },
  { id: 'read.nodeMachineMs', figure: 'cr jobs returns, on a node\'s machine', unit: 'ms', target: below(500), bench: 'commands' },
  { id: 'read.artistMachineMs', figure: 'cr jobs returns, from an artist\'s machine', unit: 'ms', target: below(1_500), bench: 'commands' },
  { id: 'submitToRenderMs', figure: 'one one-frame job: submit to renderer running', unit: 'ms', target: none('was 2.0-2.7 s; Slurm 0.7-2.9 s'), bench: undefined },
  { id: 'idle.rssMb', figure: 'idle render node: resident memory', unit: 'MB', target: below(90), bench: 'idle' },
  { id: 'idle.cpuPercent', figure: 'idle render node: CPU of one core', unit: 'percent', target: below(0.5), bench: 'idle' },
  { id: 'mesh.propagationP50Ms', figure: 'propagation, mesh of 5 peers, to all others, p50', unit: 'ms', target: none('p99 is the target'), bench: 'mesh' },
  { id: 'mesh.propagationP99Ms', figure: 'propagation, mesh of 5 peers, to all others, p99', unit: 'ms', target: below(50), bench: 'mesh' },
  { id: 'mesh.catchUp100kMs', figure: 'catch-up of 100,000 events', unit: 'ms', target: below(2_000), bench: 'mesh' },
  { id: 'spine.restart100kMs', figure: 'ready after restart, 100,000 events stored', unit: 'ms', target: none('was 1.5-2.3 s'), bench: 'spine' },
  { id: 'spine.restart1mMs', figure: 'ready after restart, 1,000,000 events stored', unit: 'ms', target: below(3_000), bench: 'spine', option: '--restart-1m' },
  { id: 'views.wideFarmRatio', figure: 'one event on 1,000 jobs / 50,000 blocks vs on one job', unit: 'ratio', target: none('as fast as a farm of one: 1x'), bench: 'views' },
  { id: 'takeover.killP50Ms', figure: 'kill (SIGKILL) to block rendering again, p50', unit: 'ms', target: none('was 2.57 s'), bench: 'takeover' },
  { id: 'takeover.killP99Ms', figure: 'kill (SIGKILL) to block rendering again, p99', unit: 'ms', target: below(5_000), bench: 'takeover' },
  { id: 'takeover.hangP50Ms', figure: 'hang (SIGSTOP) to takeover, p50', unit: 'ms', target: none('was 3.85 s'), bench: 'takeover' },
  { id: 'takeover.hangP99Ms', figure: 'hang (SIGSTOP) to takeover, p99', unit: 'ms', target: below(10_000), bench: 'takeover' },
  { id: 'takeover.collisionsPer1000', figure: 'claim collisions, idle node processes', unit: 'per-1000-blocks', target: below(10), bench: 'claims' },
  { id: 'takeover.falseTakeovers', figure: 'false takeovers, both cores saturated', unit: 'count', target: atMost(0), bench: 'claims' },
  { id: 'sim.collisionsPer1000', figure: 'claim collisions in the simulator', unit: 'per-1000-blocks', target: below(10), bench: 'sim' },
  { id: 'sim.falseDeaths', figure: 'simulator: dead verdicts on nodes heard alive', unit: 'count', target: atMost(0), bench: 'sim' },
  { id: 'scale.500.sentPerNodePerS', figure: 'simulated farm of 500 nodes: heartbeats and hail a node sends', unit: 'per-s', target: none('bounded as the farm grows: compare the figure at 10 nodes'), bench: 'scale' },
  { id: 'scale.500.takeoverP99Ms', figure: 'simulated farm of 500 nodes: crash or hang to the block rendering again, p99', unit: 'ms', target: none('kill p99 < 5 s and hang p99 < 10 s on real processes'), bench: 'scale' },
  { id: 'export.fullSqliteMs', figure: 'cr export: full, SQLite, 100,000 jobs', unit: 'ms', target: below(10_000), bench: 'export', option: '--export-full' },
  { id: 'export.incrementalMs', figure: 'cr export: incremental after 1,000 events', unit: 'ms', target: below(500), bench: 'export' },
  { id: 'export.followP99Ms', figure: 'cr export --follow lag, p99', unit: 'ms', target: below(1_000), bench: 'export' },
  { id: 'tui.frameMs', figure: 'TUI: Jobs frame, 1,000 jobs and 100 nodes', unit: 'ms', target: none('median React + Ink time'), bench: 'tui' },
  { id: 'tui.eventToFrameP99Ms', figure: 'TUI: event on a node to frame written, p99', unit: 'ms', target: none('renders throttled to one per 50 ms'), bench: 'tui' },
  { id: 'render.startOverheadMs', figure: 'start block to renderer running', unit: 'ms', target: none('was 23-29 ms'), bench: 'render' },
  { id: 'render.copyVsCp', figure: 'contained copy throughput / cp', unit: 'ratio', target: atLeast(0.9), bench: 'render' }
] as const satisfies readonly SummaryLine[]

export type FigureId = typeof CATALOGUE[number]['id']

export interface Measured {
  readonly value: number
  readonly note?: string
  /** Set when this run cannot be judged against the target (a smaller scale than the target's), saying why. */
  readonly unjudged?: string
}

export type Figures = Partial<Readonly<Record<FigureId, Measured>>>

/** What a bench hands back: its own tables, and its figures for the summary. */
export interface BenchReport {
  readonly tables: readonly BenchTable[]
  readonly figures: Figures
}

/** Why a bench's figures are missing: not run this time (with `--only`), or failed. */
export type BenchOutcome =
  | { readonly kind: 'measured', readonly figures: Figures }
  | { readonly kind: 'missing', readonly why: string }

export interface SummaryRow {
  readonly figure: string
  readonly value: string
  readonly target: string
  readonly mark: 'pass' | 'MISS' | '-' | 'n/a' | 'not measured'
  readonly note: string
}

/** How each unit is written after its number, and to how many decimals a measured value is shown. */
const UNITS: Readonly<Record<Exclude<Unit, 'ms'>, { readonly suffix: string, readonly digits: number }>> = {
  'per-s': { suffix: ' /s', digits: 1 },
  MB: { suffix: ' MB', digits: 0 },
  percent: { suffix: ' %', digits: 2 },
  ratio: { suffix: 'x', digits: 2 },
  count: { suffix: '', digits: 0 },
  'per-1000-blocks': { suffix: ' /1000 blocks', digits: 1 }
}

function formatValue (value: number, unit: Unit): string {
  if (unit === 'ms') return formatMs(value)
  return `${value.toFixed(UNITS[unit].digits)}${UNITS[unit].suffix}`
}

/** A target's bound as the issues write it: "< 50 ms", ">= 60 /s", "< 3 s". */
function formatLimit (limit: number, unit: Unit): string {
  if (unit === 'ms') return limit >= 1000 ? `${limit / 1000} s` : `${limit} ms`
  return `${limit}${UNITS[unit].suffix}`
}

function formatTarget (target: Target, unit: Unit): string {
  switch (target.kind) {
    case 'below': return `< ${formatLimit(target.limit, unit)}`
    case 'at-least': return `>= ${formatLimit(target.limit, unit)}`
    case 'at-most': return `<= ${formatLimit(target.limit, unit)}`
    case 'none': return '-'
  }
}

function meets (target: Exclude<Target, { kind: 'none' }>, value: number): boolean {
  switch (target.kind) {
    case 'below': return value < target.limit
    case 'at-least': return value >= target.limit
    case 'at-most': return value <= target.limit
  }
}

/** One summary row per catalogue line, from what each bench handed over. */
export function summarize (outcomes: ReadonlyMap<BenchName, BenchOutcome>): SummaryRow[] {
  return CATALOGUE.map((line): SummaryRow => {
    const target = formatTarget(line.target, line.unit)
    const context = line.target.kind === 'none' ? line.target.context : ''
    const outcome = line.bench === undefined ? undefined : outcomes.get(line.bench)
    const unmeasured = (why: string): SummaryRow => ({ figure: line.figure, value: '', target, mark: 'not measured', note: why })
    if (line.bench === undefined) return unmeasured(`no bench measures it yet${context === '' ? '' : `; ${context}`}`)
    if (outcome === undefined) return unmeasured(`bench ${line.bench} not run`)
    if (outcome.kind === 'missing') return unmeasured(outcome.why)
    const measured = outcome.figures[line.id]
    const option = 'option' in line ? line.option : undefined
    if (measured === undefined) return unmeasured(option === undefined ? `bench ${line.bench} did not report it` : `needs ${option} (minutes of set-up)`)
    const note = [measured.note, measured.unjudged, context].filter((part) => part !== undefined && part !== '').join('; ')
    const mark = line.target.kind === 'none' ? '-' : measured.unjudged !== undefined ? 'n/a' : meets(line.target, measured.value) ? 'pass' : 'MISS'
    return { figure: line.figure, value: formatValue(measured.value, line.unit), target, mark, note }
  })
}

const HEADINGS = ['figure', 'value', 'target', 'mark', 'note'] as const

function cells (row: SummaryRow): string[] {
  return [row.figure, row.value, row.target, row.mark, row.note]
}

/** The summary for a terminal: aligned columns, values right-aligned. */
export function summaryText (rows: readonly SummaryRow[]): string {
  const table = [[...HEADINGS], ...rows.map(cells)]
  const widths = HEADINGS.map((_, column) => Math.max(...table.map((line) => line[column]?.length ?? 0)))
  return table.map((line) => line.map((cell, column) => {
    const width = widths[column] ?? 0
    return column === 1 ? cell.padStart(width) : cell.padEnd(width)
  }).join('  ').trimEnd()).join('\n')
}

function markdownTable (headings: readonly string[], lines: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|')
  return [headings, headings.map(() => '---'), ...lines].map((line) => `| ${line.map(escape).join(' | ')} |`).join('\n')
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly node: string
  readonly commit: string
}

/** The machine from /proc (Linux), the Node version, and the commit with whether the tree has changes on top. */
export async function describeMachine (): Promise<Machine> {
  const [cpuinfo, meminfo] = await Promise.all([readFile('/proc/cpuinfo', 'utf8'), readFile('/proc/meminfo', 'utf8')])
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown CPU'
  const cores = cpuinfo.split('\n').filter((line) => line.startsWith('processor')).length
  const memoryKb = Number(/^MemTotal:\s*(\d+) kB$/m.exec(meminfo)?.[1])
  const head = await execa('git', ['rev-parse', '--short', 'HEAD'], { reject: false })
  const dirty = await execa('git', ['diff', '--quiet', 'HEAD'], { reject: false })
  const commit = head.exitCode !== 0 ? 'unknown (no git)' : `${head.stdout.trim()}${dirty.exitCode === 0 ? '' : ' with uncommitted changes'}`
  return { cpu, cores, memoryGb: memoryKb / 1024 / 1024, node: process.version, commit }
}

export function machineLine (machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb.toFixed(1)} GB; Node ${machine.node}; commit ${machine.commit}`
}

/** Writes RESULTS.md: when, where, how it was run, the summary, and the benches' own tables. */
export async function writeResults (file: URL, run: { readonly startedAt: Date, readonly args: readonly string[], readonly machine: Machine, readonly summary: readonly SummaryRow[], readonly tables: readonly BenchTable[] }): Promise<void> {
  const detail = (table: BenchTable): string => `### ${table.title}\n\n${markdownTable(['figure', 'value', 'note'], table.rows.map(([figure, value, note]: Row) => [figure, value, note ?? '']))}`
  const text = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${run.args.length === 0 ? '' : ` -- ${run.args.join(' ')}`}\`, started ${run.startedAt.toISOString()}.`,
    '',
    `Machine: ${machineLine(run.machine)}.`,
    '',
    '## Summary',
    '',
    markdownTable(HEADINGS, run.summary.map(cells)),
    '',
    '## Details',
    '',
    ...run.tables.map(detail).flatMap((section) => [section, ''])
  ].join('\n')
  await writeFile(file, text)
}
