/**
 * From a block the agent decided to render to the task src/render runs: the job's
 * fields, the block's frames, the limits in force now, and what this node's own config
 * says (renderer paths, the software it agrees to run, whether Blender may run scene
 * scripts). The config, not the shared view, has the last word on what runs here.
 */
import type { FrameRange } from '../../protocol/frames.js'
import type { RenderLimits } from '../../protocol/schedule.js'
import type { BlockRef } from '../../protocol/scheduling.js'
import type { JobView } from '../../protocol/view.js'
import type { Software } from '../../protocol/vocabulary.js'
import type { ExecutableOverrides, RenderTask } from '../../render/task.js'

/** The `[render]` settings of this node's config that shape what it runs. */
export interface LocalRenderSettings {
  readonly executables: ExecutableOverrides
  /** The software this node agrees to run (`[render] software`). */
  readonly software: readonly Software[]
  /** Whether Blender may run the scripts a scene carries (`[render] blenderScripts`). */
  readonly blenderScripts: boolean
  /** The render timeout for jobs that set none (`[render] timeoutPerFrame`), in seconds per frame. */
  readonly timeoutPerFrameS: number | undefined
  /** Added to every block's limit for the renderer to start (`[render] timeoutGrace`). */
  readonly timeoutGraceS: number
}

/**
 * Why this node will not render `job`, or null when it will. The scheduler already keeps
 * it from claiming such a job; this holds even when the view says otherwise.
 */
export function refusalOf (job: JobView, local: LocalRenderSettings): string | null {
  if (local.software.includes(job.software)) return null
  return `this node does not run software "${job.software}": its config's [render] software lists ${local.software.length === 0 ? 'nothing' : local.software.join(', ')}`
}

/** Quotes one word for the command adapter's shell-like splitting: single quotes, no escapes inside. */
function quoteWord (word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`
}

/** Image names become file names: keep them to what every file system and renderer accepts. */
function safeImageName (job: JobView): string {
  const name = (job.imageName ?? job.name).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '')
  return name.length > 0 ? name.slice(0, 200) : `job_${job.shortId}`
}

/** The job's own render timeout wins over this node's default; with neither, the block has no limit. */
function timeoutOf (job: JobView, local: LocalRenderSettings): Pick<RenderTask, 'timeout'> {
  const perFrameS = job.timeoutPerFrameS ?? local.timeoutPerFrameS
  return perFrameS === undefined ? {} : { timeout: { perFrameMs: perFrameS * 1000, startupMs: local.timeoutGraceS * 1000 } }
}

export function renderTaskFor (job: JobView, target: BlockRef, frames: FrameRange, limits: RenderLimits, local: LocalRenderSettings): RenderTask {
  return {
    jobId: job.id,
    blockIndex: target.block,
    epoch: target.epoch,
    software: job.software,
    scenePath: job.scenePath,
    targetDir: job.targetPath,
    frames: { start: frames.start, end: frames.end },
    imageName: safeImageName(job),
    ...(job.imageFormat === null ? {} : { imageFormat: job.imageFormat }),
    ...(job.layer === null ? {} : { layer: job.layer }),
    ...(job.camera === null ? {} : { camera: job.camera }),
    ...(job.commandTemplate === null ? {} : { commandTemplate: job.commandTemplate.map(quoteWord).join(' ') }),
    ...(job.software === 'blender' ? { blenderScripts: local.blenderScripts } : {}),
    limits,
    executables: local.executables,
    ...timeoutOf(job, local),
    // Frames found at the target are kept (an earlier attempt delivered them whole) unless
    // this render was asked for: then they are replaced, and the render says so.
    ...(job.blocks[target.block]?.retryAsked === true ? { replaceExisting: true } : {})
  }
}
