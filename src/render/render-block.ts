/**
 * One block, end to end: find the renderer, check the scene, render into scratch (contained
 * render), verify every frame, copy in bulk to the target, clean the scratch. This is what
 * the node layer calls; it never throws for a renderer's or a job's failure, only reports.
 */
import { open, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { adapterFor } from './adapters/index.js'
import { DEFAULT_SCRATCH_ROOT, deliverToTarget, listOutputs, missingFrames, nodeScratchDir, prepareScratch, removeScratch } from './contained.js'
import type { CopyFs, ScratchDirs } from './contained.js'
import { findExecutable } from './discovery.js'
import type { DiscoveryHost } from './discovery.js'
import { SILENT_LOGGER } from './logger.js'
import { RenderError, SceneUnavailableError, ScratchError } from './errors.js'
import { executePlan } from './execute.js'
import { OutputTail } from './output-lines.js'
import { failureKindOf } from './result.js'
import type { FailureReason, RenderAborted, RenderFailed, RenderProgress, RenderResult } from './result.js'
import type { RunnerOptions } from './runner.js'
import { formatFrameRun, frameRuns, taskFrames, validateTask } from './task.js'
import type { RenderTask, RenderTimeout } from './task.js'
import { formatDurationS } from '../protocol/duration.js'
import { renderGroupsDirOf } from './render-groups.js'

/** Frames named in a log line about kept or replaced frames: enough to find them, few enough to read. */
const NAMES_LOGGED = 5

export interface RenderOptions extends RunnerOptions {
  /** Local folder for contained renders; each block gets `<root>/<node>/<job>/<block>-<epoch>/`. */
  readonly scratchRoot?: string
  /**
   * The rendering node (its peer id): its blocks go under `<root>/<node>/`, so nodes that
   * share a host and a scratch root never touch each other's folders. Outside a node (a
   * one-off render) the block folders go straight under the root.
   */
  readonly nodeId?: string
  /** Abort to stop the render (halt, lost lease, shutdown); the result is then `aborted`. */
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: RenderProgress) => void
  /** Where executables are looked for; this machine by default. */
  readonly discovery?: DiscoveryHost
  readonly copyConcurrency?: number
  /** File operations of the copy to the target (tests make them fail part-way). */
  readonly copyFs?: CopyFs
}

/** Renders one block end to end and reports how it went. Throws only on a bug. */
export async function renderBlock(task: RenderTask, options: RenderOptions = {}): Promise<RenderResult> {
  const started = performance.now()
  const tail = new OutputTail()
  const wallMs = (): number => Math.round(performance.now() - started)
  const failed = (reason: FailureReason, message: string): RenderFailed =>
    ({ kind: 'failed', failure: failureKindOf(reason), reason, message, wallMs: wallMs(), outputTail: tail.snapshot() })
  const aborted = (): RenderAborted => ({ kind: 'aborted', message: abortMessage(options.signal?.reason), wallMs: wallMs(), outputTail: tail.snapshot() })

  let frames: number[]
  try {
    validateTask(task)
    frames = taskFrames(task.frames)
  } catch (err) {
    if (err instanceof RenderError) return failed(err.reason, err.message)
    throw err
  }
  // The renderer runs in the scratch folder: relative paths must mean what they meant here.
  const local: RenderTask = { ...task, scenePath: path.resolve(task.scenePath), targetDir: path.resolve(task.targetDir) }
  const scratchRoot = options.scratchRoot ?? DEFAULT_SCRATCH_ROOT
  const ownScratch = options.nodeId === undefined ? scratchRoot : nodeScratchDir(scratchRoot, options.nodeId)
  let scratch: ScratchDirs
  try {
    scratch = await prepareScratch(ownScratch, local)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code !== 'string') throw err
    const error = new ScratchError(ownScratch, code, (err as Error).message)
    return failed(error.reason, error.message)
  }
  try {
    const adapter = adapterFor(local.software)
    const executable = adapter.program === undefined ? '' : await findExecutable(adapter.program, local.executables, options.discovery)
    const plan = adapter.plan(local, { executable, outputDir: scratch.outputDir, supportDir: scratch.supportDir, frames, platform: process.platform, env: process.env })
    for (const scene of plan.scenes) await checkScene(scene)
    await Promise.all(plan.supportFiles.map((f) => writeFile(path.join(scratch.supportDir, f.name), f.content)))

    const onProgress = options.onProgress ?? ((): void => undefined)
    onProgress({ kind: 'phase', phase: 'rendering' })
    const outcome = await executePlan({
      plan,
      rules: adapter.rules,
      frames,
      cwd: scratch.blockDir,
      env: { TMPDIR: scratch.tmpDir, TEMP: scratch.tmpDir, TMP: scratch.tmpDir },
      memoryLimitMb: local.limits.memoryMb,
      label: `cr-${local.jobId.slice(0, 64)}-${local.blockIndex}-${local.epoch}`,
      signal: options.signal,
      timeLimit: local.timeout === undefined ? undefined : blockTimeLimit(local.timeout, frames.length),
      tail,
      onProgress
    }, options.nodeId === undefined ? options : { renderGroupsDir: renderGroupsDirOf(ownScratch), ...options })
    if (outcome.kind === 'aborted') return aborted()
    if (outcome.kind === 'failed') return failed(outcome.reason, outcome.message)

    const outputs = await listOutputs(scratch.outputDir)
    const missing = missingFrames(frames, outputs, local.imageName)
    if (missing.length > 0) {
      return failed('missing-frames', `the renderer ended without error but frame(s) ${frameRuns(missing).map(formatFrameRun).join(', ')} are missing or empty`)
    }
    onProgress({ kind: 'phase', phase: 'copying' })
    const logger = options.logger ?? SILENT_LOGGER
    const delivery = await deliverToTarget(
      { outputDir: scratch.outputDir, outputs, targetDir: local.targetDir, attempt: local, existing: local.replaceExisting === true ? 'replace' : 'keep' },
      { signal: options.signal, concurrency: options.copyConcurrency, fs: options.copyFs, logger }
    )
    if (delivery.kind === 'aborted') return aborted()
    const block = `${local.jobId}/${local.blockIndex}/${local.epoch}`
    if (delivery.kept.length > 0) {
      logger.warn('frames this block had already delivered were kept, not written again', { block, kept: delivery.kept.length, of: delivery.paths.length, first: delivery.kept.slice(0, NAMES_LOGGED) })
    }
    if (delivery.replaced.length > 0) {
      const why = local.replaceExisting === true ? 'a re-render was asked for' : 'they were not this block\'s (another job\'s frames, or files cr did not write)'
      logger.warn(`frames at the target replaced: ${why}`, { block, replaced: delivery.replaced.length, of: delivery.paths.length, first: delivery.replaced.slice(0, NAMES_LOGGED) })
    }
    return {
      kind: 'finished',
      frames: outcome.frames,
      wallMs: wallMs(),
      renderMs: outcome.renderMs,
      outputs: delivery.paths,
      kept: delivery.kept,
      replaced: delivery.replaced,
      warnings: outcome.warnings,
      outputTail: tail.snapshot()
    }
  } catch (err) {
    if (err instanceof RenderError) return failed(err.reason, err.message)
    throw err
  } finally {
    await removeScratch(scratch)
  }
}

/** Fails fast, and fatally, on a scene nobody can render: before a license is taken. */
async function checkScene(scene: string): Promise<void> {
  try {
    if (!(await stat(scene)).isFile()) throw new SceneUnavailableError(scene, 'scene-unreadable', 'EISDIR')
    // Opening proves readability where access() would not (root, ACLs, network shares).
    await (await open(scene, 'r')).close()
  } catch (err) {
    if (err instanceof SceneUnavailableError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SceneUnavailableError(scene, 'scene-missing', code)
    if (typeof code === 'string') throw new SceneUnavailableError(scene, 'scene-unreadable', code)
    throw err
  }
}

/** The block's limit: per frame times its frames, plus the start-up grace; with how it was reached, for the failure message. */
export function blockTimeLimit(timeout: RenderTimeout, frameCount: number): { readonly ms: number; readonly text: string } {
  const ms = timeout.perFrameMs * frameCount + timeout.startupMs
  // Whole seconds as 1h30m; a fraction (tests, mostly) as plain seconds.
  const seconds = (value: number): string => (value % 1000 === 0 ? formatDurationS(value / 1000) : `${value / 1000}s`)
  return { ms, text: `${seconds(ms)} (${frameCount} frame${frameCount === 1 ? '' : 's'} × ${seconds(timeout.perFrameMs)}, plus ${seconds(timeout.startupMs)} to start)` }
}

function abortMessage(reason: unknown): string {
  if (reason instanceof Error) return reason.message
  return typeof reason === 'string' ? reason : 'aborted'
}
