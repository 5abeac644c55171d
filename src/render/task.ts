/**
 * What a node asks src/render to do: one block of one job, rendered end to end. The node
 * layer builds a RenderTask from the farm state (job, block, lease epoch, its own limits)
 * and hands it to renderBlock(); nothing here knows where the task came from.
 */
import { FRAME_NUMBER_LIMIT, MAX_FRAMES_PER_JOB, PATH_MAX_CHARS, UNLIMITED } from '../protocol/vocabulary.js'
import type { Software } from '../protocol/vocabulary.js'
import { InvalidTaskError } from './errors.js'

/** The limits in force for this block (normal or work-hour, the caller picks); -1 is unlimited. */
export interface RenderLimits {
  readonly threads: number
  readonly memoryMb: number
}

/** A contiguous range (the usual block) or an explicit list of frames. */
export type FrameSpec = { readonly start: number; readonly end: number; readonly step?: number } | readonly number[]

/** The programs a node may have to find on disk; a node's renderer paths are keyed by these. */
export const PROGRAMS = ['maya', 'nuke', 'blender', 'kick', 'vray', 'node'] as const
export type Program = (typeof PROGRAMS)[number]

/** Per-node executable paths that win over discovery (the seed's client renderer paths). */
export type ExecutableOverrides = Partial<Readonly<Record<Program, string>>>

export interface RenderTask {
  readonly jobId: string
  readonly blockIndex: number
  /** The lease epoch: part of the scratch folder name so a retried block never reuses a stale one. */
  readonly epoch: number
  readonly software: Software
  readonly scenePath: string
  /** Where finished frames land (the job's target path). */
  readonly targetDir: string
  readonly frames: FrameSpec
  /** The image name (Maya -im, Blender -o prefix, ...); output files are `<imageName>_<frame>.<ext>`. */
  readonly imageName: string
  /** An image format or extension (png, exr, tif, ...); the scene's own setting when absent. */
  readonly imageFormat?: string
  readonly layer?: string
  readonly camera?: string
  /** Maya's project folder (-proj), for relative texture paths. */
  readonly projectDir?: string
  /** Nuke's Write node to execute (-X); all Write nodes when absent. */
  readonly writeNode?: string
  /** For software `command`: a command line with placeholders, see adapters/command.ts. */
  readonly commandTemplate?: string
  /**
   * Blender only: let the scene run the Python it carries (drivers, registered text
   * blocks), which can do anything the node's user can. Off when absent.
   */
  readonly blenderScripts?: boolean
  readonly limits: RenderLimits
  readonly executables?: ExecutableOverrides
  /**
   * A re-render that was asked for (`cr job retry` after the block failed): frames it finds
   * at the target are replaced. Otherwise they are kept, as an earlier attempt of the
   * block delivered them whole.
   */
  readonly replaceExisting?: boolean
  /** Past this the render is stopped and the block fails as retryable `timeout`; none when absent. */
  readonly timeout?: RenderTimeout
}

/** A block's time limit: so much per frame, plus a grace for the renderer to start (load the scene, get a license). */
export interface RenderTimeout {
  readonly perFrameMs: number
  readonly startupMs: number
}

/** One arithmetic run of frames, the unit renderers with start/end/step flags accept. */
export interface FrameRun {
  readonly start: number
  readonly end: number
  readonly step: number
}

/** Names that become path segments must not escape the scratch or target folder. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/

/** The frames a task must produce, sorted and unique; throws InvalidTaskError on a bad spec. */
export function taskFrames(frames: FrameSpec): number[] {
  let list: number[]
  if (isFrameList(frames)) {
    list = [...new Set(frames)].sort((a, b) => a - b)
  } else {
    const step = frames.step ?? 1
    if (!Number.isSafeInteger(step) || step < 1) throw new InvalidTaskError(`frame step ${step} is not a positive integer`)
    checkFrame(frames.start)
    checkFrame(frames.end)
    if (frames.end < frames.start) throw new InvalidTaskError(`frame range ${frames.start}-${frames.end} is empty`)
    if ((frames.end - frames.start) / step >= MAX_FRAMES_PER_JOB) throw new InvalidTaskError(`frame range ${frames.start}-${frames.end} has more than ${MAX_FRAMES_PER_JOB} frames`)
    list = runFrames({ start: frames.start, end: frames.end, step })
  }
  if (list.length === 0) throw new InvalidTaskError('the block has no frames')
  if (list.length > MAX_FRAMES_PER_JOB) throw new InvalidTaskError(`the block has more than ${MAX_FRAMES_PER_JOB} frames`)
  list.forEach(checkFrame)
  return list
}

/** Splits sorted unique frames into the fewest greedy arithmetic runs: 1,2,3,7,9 -> 1-3x1, 7-9x2. */
export function frameRuns(frames: readonly number[]): FrameRun[] {
  const runs: FrameRun[] = []
  let i = 0
  while (i < frames.length) {
    const start = frames[i] as number
    const next = frames[i + 1]
    if (next === undefined) {
      runs.push({ start, end: start, step: 1 })
      break
    }
    const step = next - start
    let j = i + 1
    while (j + 1 < frames.length && (frames[j + 1] as number) - (frames[j] as number) === step) j++
    runs.push({ start, end: frames[j] as number, step })
    i = j + 1
  }
  return runs
}

/** A run as farm people write it: 5, 1-10, 1-10x2. */
export function formatFrameRun(run: FrameRun): string {
  if (run.start === run.end) return String(run.start)
  return run.step === 1 ? `${run.start}-${run.end}` : `${run.start}-${run.end}x${run.step}`
}

export function runFrames(run: FrameRun): number[] {
  const frames: number[] = []
  for (let f = run.start; f <= run.end; f += run.step) frames.push(f)
  return frames
}

/** Checks the fields that become paths or flags; throws InvalidTaskError naming the field. */
export function validateTask(task: RenderTask): void {
  if (!SAFE_NAME.test(task.jobId)) throw new InvalidTaskError(`job id ${JSON.stringify(task.jobId)} is not a safe folder name`)
  if (!SAFE_NAME.test(task.imageName)) throw new InvalidTaskError(`image name ${JSON.stringify(task.imageName)} must be letters, digits, '.', '_' or '-'`)
  if (task.imageFormat !== undefined && !/^[A-Za-z0-9]{1,10}$/.test(task.imageFormat)) throw new InvalidTaskError(`image format ${JSON.stringify(task.imageFormat)} is not a format name`)
  for (const [field, value] of [['block index', task.blockIndex], ['epoch', task.epoch]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidTaskError(`${field} ${value} is not a non-negative integer`)
  }
  for (const [field, value] of [['scene path', task.scenePath], ['target path', task.targetDir]] as const) {
    if (value.length === 0 || value.length > PATH_MAX_CHARS) throw new InvalidTaskError(`${field} must have 1 to ${PATH_MAX_CHARS} characters`)
  }
  for (const [field, value] of [['thread', task.limits.threads], ['memory', task.limits.memoryMb]] as const) {
    if (!Number.isSafeInteger(value) || (value < 1 && value !== UNLIMITED)) throw new InvalidTaskError(`${field} limit ${value} must be a positive integer or ${UNLIMITED}`)
  }
  if (task.timeout !== undefined) {
    for (const [field, value, min] of [['timeout per frame', task.timeout.perFrameMs, 1], ['timeout start-up grace', task.timeout.startupMs, 0]] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new InvalidTaskError(`${field} ${value} ms must be a whole number of ms, at least ${min}`)
    }
  }
  taskFrames(task.frames)
}

function isFrameList(frames: FrameSpec): frames is readonly number[] {
  return Array.isArray(frames)
}

function checkFrame(frame: number): void {
  if (!Number.isSafeInteger(frame) || Math.abs(frame) > FRAME_NUMBER_LIMIT) throw new InvalidTaskError(`frame ${frame} is not an integer within ±${FRAME_NUMBER_LIMIT}`)
}
