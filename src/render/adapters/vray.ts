/**
 * V-Ray Standalone: `vray -sceneFile=<vrscene> -imgFile=<out> -frames=<list>`, which renders
 * all frames of a block in one run and numbers the files itself (name.0001.exr). Each frame
 * ends with one "Total frame time" line, however many render elements it wrote.
 */
import { UnsupportedOptionError } from '../errors.js'
import { frameRuns, runFrames } from '../task.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, error, frameDoneTimed, pathsOf, percentProgress } from './rules.js'
import type { OutputRule, PlanContext, RenderPlan, RendererAdapter } from './types.js'

/** V-Ray's frame list: ranges of consecutive frames as a-b, other frames one by one. */
export function vrayFrameList(frames: readonly number[]): string {
  return frameRuns(frames)
    .flatMap((run) => (run.step === 1 && run.end > run.start ? [`${run.start}-${run.end}`] : runFrames(run).map(String)))
    .join(',')
}

/** V-Ray ends every frame with "Total frame time 0h 0m 9.1s (9.1 s)", in Maya as standalone. */
export const VRAY_FRAME_DONE: OutputRule = { pattern: /Total frame time\s+(.+?)\s*(?:\(|$)/, event: frameDoneTimed }

function planVray(task: RenderTask, context: PlanContext): RenderPlan {
  if (task.layer !== undefined || task.camera !== undefined) throw new UnsupportedOptionError('vray-standalone', 'set the layer and camera when exporting the .vrscene')
  const ext = (task.imageFormat ?? 'exr').toLowerCase()
  const args = [
    `-sceneFile=${task.scenePath}`,
    `-imgFile=${pathsOf(context.platform).join(context.outputDir, `${task.imageName}.${ext}`)}`,
    `-frames=${vrayFrameList(context.frames)}`,
    '-display=0',
    '-autoClose=1',
    '-verboseLevel=3',
    ...(task.limits.threads > 0 ? [`-numThreads=${task.limits.threads}`] : [])
  ]
  return { invocations: [{ file: context.executable, args, frames: context.frames }], scenes: [task.scenePath], supportFiles: [] }
}

export const VRAY_ADAPTER: RendererAdapter = {
  software: 'vray-standalone',
  program: 'vray',
  plan: planVray,
  rules: [
    ...COMMON_RULES,
    { pattern: /(?:Error loading|Could not load|Failed to load) scene/i, event: error('scene-unreadable') },
    VRAY_FRAME_DONE,
    { pattern: /(\d+(?:\.\d+)?) ?% (?:completed|done)/, event: percentProgress },
    { pattern: /\berror: /i, event: error('renderer-error') }
  ]
}
