/**
 * Render benchmarks (printed, not asserted):
 *  - overhead from "start block" to the renderer process running, with no memory limit, a
 *    cgroup limit and the watchdog;
 *  - contained copy throughput against `cp` on 200 files of 8 MB, 50 with `--small`
 *    (target: >= 0.9x cp).
 * Run alone with `npx tsx bench/render.ts [--small]`, or through bench/index.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { deliverToTarget, listOutputs } from '../src/render/contained.js'
import { renderBlock } from '../src/render/render-block.js'
import type { RenderOptions } from '../src/render/render-block.js'
import type { RenderTask } from '../src/render/task.js'
import { median, printTables, type Row } from './report.js'
import type { BenchReport } from './results.js'

const OVERHEAD_RUNS = 20
const COPY_RUNS = 5
const COPY_FILES = 200
const SMALL_COPY_FILES = 50
const COPY_FILE_MB = 8

/** Milliseconds from calling renderBlock to the renderer's process existing. */
async function startOverheadMs(dir: string, memoryMb: number, options: RenderOptions): Promise<number> {
  const task: RenderTask = {
    jobId: 'bench',
    blockIndex: 0,
    epoch: 1,
    software: 'command',
    scenePath: path.join(dir, 'unused'),
    targetDir: path.join(dir, 'target'),
    frames: [1],
    imageName: 'shot',
    commandTemplate: 'sh -c "echo frame > \\"$0/shot_0001.png\\"" {outdir}',
    limits: { threads: 1, memoryMb }
  }
  const started = performance.now()
  let running: number | undefined
  const result = await renderBlock(task, { ...options, scratchRoot: path.join(dir, 'scratch'), onProgress: (p) => { if (p.kind === 'started') running ??= performance.now() } })
  if (result.kind !== 'finished' || running === undefined) throw new Error(`benchmark render did not finish: ${JSON.stringify(result)}`)
  return running - started
}

async function benchOverhead(dir: string): Promise<{ rows: Row[], unlimitedMs: number }> {
  const rows: Row[] = []
  const medians: number[] = []
  const variants: [string, number, RenderOptions][] = [
    ['no memory limit', -1, {}],
    ['memory limit (cgroup if allowed)', 512, {}],
    ['memory limit (watchdog)', 512, { memoryEnforcement: 'watchdog' }]
  ]
  for (const [name, memoryMb, options] of variants) {
    const samples: number[] = []
    for (let i = 0; i < OVERHEAD_RUNS; i++) samples.push(await startOverheadMs(dir, memoryMb, options))
    medians.push(median(samples))
    rows.push([`start block -> renderer running, ${name}`, `${median(samples).toFixed(1)} ms`, `min ${Math.min(...samples).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms, ${OVERHEAD_RUNS} runs`])
  }
  return { rows, unlimitedMs: medians[0] ?? Number.NaN }
}

async function benchCopy(dir: string, files: number): Promise<{ rows: Row[], ratio: number }> {
  const source = path.join(dir, 'frames')
  await mkdir(source)
  const block = Buffer.alloc(COPY_FILE_MB * 1024 * 1024)
  for (let i = 1; i <= files; i++) {
    block.fill(i % 256)
    await writeFile(path.join(source, `shot_${String(i).padStart(4, '0')}.exr`), block)
  }
  const outputs = await listOutputs(source)
  const cpMs: number[] = []
  const copyMs: number[] = []
  for (let run = 0; run < COPY_RUNS; run++) {
    // Alternate who goes first, so neither always gets the warmer cache.
    const order = run % 2 === 0 ? ['cp', 'contained'] : ['contained', 'cp']
    for (const which of order) {
      const target = path.join(dir, `target-${which}`)
      await rm(target, { recursive: true, force: true })
      await mkdir(target)
      const started = performance.now()
      if (which === 'cp') await execa('cp', ['-r', `${source}/.`, target])
      else await deliverToTarget({ outputDir: source, outputs, targetDir: target, attempt: { jobId: 'bench', blockIndex: 0, epoch: run + 1 }, existing: 'keep' })
      ;(which === 'cp' ? cpMs : copyMs).push(performance.now() - started)
    }
  }
  const totalMb = files * COPY_FILE_MB
  const cp = median(cpMs)
  const contained = median(copyMs)
  return {
    rows: [
      [`cp -r, ${files} x ${COPY_FILE_MB} MB`, `${(totalMb / (cp / 1000)).toFixed(0)} MB/s`, `median of ${COPY_RUNS}: ${cp.toFixed(0)} ms`],
      ['contained copy (staging, size check, link in)', `${(totalMb / (contained / 1000)).toFixed(0)} MB/s`, `median of ${COPY_RUNS}: ${contained.toFixed(0)} ms`],
      ['contained / cp throughput', `${(cp / contained).toFixed(2)}x`, 'target >= 0.9x']
    ],
    ratio: cp / contained
  }
}

export async function runRenderBench(options: { readonly small?: boolean } = {}): Promise<BenchReport> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cr-bench-render-'))
  try {
    const files = options.small === true ? SMALL_COPY_FILES : COPY_FILES
    const overhead = await benchOverhead(dir)
    const copy = await benchCopy(dir, files)
    return {
      tables: [{ title: 'Render', rows: [...overhead.rows, ...copy.rows] }],
      figures: {
        'render.startOverheadMs': { value: overhead.unlimitedMs, note: `no memory limit, median of ${OVERHEAD_RUNS}` },
        'render.copyVsCp': { value: copy.ratio, note: `${files} x ${COPY_FILE_MB} MB, median of ${COPY_RUNS}` }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) printTables((await runRenderBench({ small: process.argv.includes('--small') })).tables)
