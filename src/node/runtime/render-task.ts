/**
 * From a block the agent decided to render to the task src/render runs: the job's
 * fields, the block's frames, the limits in force now, and this node's renderer paths.
 */
import type { FrameRange } from '../../protocol/frames.js'
import type { RenderLimits } from '../../protocol/schedule.js'
import type { BlockRef } from '../../protocol/scheduling.js'
import type { JobView } from '../../protocol/view.js'
import type { ExecutableOverrides, RenderTask } from '../../render/task.js'

/** Quotes one word for the command adapter's shell-like splitting: single quotes, no escapes inside. */
function quoteWord (word: string): string {
  return `'${word.replaceAll("'", `'"'"'`)}'`
}

/** Image names become file names: keep them to what every file system and renderer accepts. */
function safeImageName (job: JobView): string {
  const name = (job.imageName ?? job.name).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '')
  return name.length > 0 ? name.slice(0, 200) : `job_${job.shortId}`
}

export function renderTaskFor (job: JobView, target: BlockRef, frames: FrameRange, limits: RenderLimits, executables: ExecutableOverrides): RenderTask {
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
    limits,
    executables
  }
}
