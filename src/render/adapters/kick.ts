/**
 * Arnold's standalone renderer, kick. It renders one .ass file, one frame, per run, so a
 * block becomes one invocation per frame; a scene path with #### names the per-frame files
 * (scene.####.ass), as Arnold exports write them.
 */
import { UnsupportedOptionError } from '../errors.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, error, frameDoneTimed, optionalArgs, padFrame, pathsOf, percentProgress, threadArgs } from './rules.js'
import type { PlanContext, RenderPlan, RendererAdapter } from './types.js'

/** Scene files per frame: every run of '#' in the path becomes the padded frame number. */
export function sceneForFrame(scenePath: string, frame: number): string {
  return scenePath.replace(/#+/g, (hashes) => padFrame(frame, hashes.length))
}

function planKick(task: RenderTask, context: PlanContext): RenderPlan {
  if (task.layer !== undefined) throw new UnsupportedOptionError('arnold-kick', 'an .ass file has no render layers')
  const perFrameScenes = task.scenePath.includes('#')
  const ext = (task.imageFormat ?? 'exr').toLowerCase()
  const paths = pathsOf(context.platform)
  const invocations = context.frames.map((frame) => ({
    file: context.executable,
    args: [
      '-i', sceneForFrame(task.scenePath, frame),
      '-o', paths.join(context.outputDir, `${task.imageName}.${padFrame(frame, 4)}.${ext}`),
      ...optionalArgs('-c', task.camera),
      ...threadArgs('-t', task.limits.threads),
      // A single .ass for every frame: tell Arnold which frame it is (for motion and expressions).
      ...(perFrameScenes ? [] : ['-set', 'options.frame', String(frame)]),
      '-dw', '-dp', '-nstdin', '-v', '2'
    ],
    frames: [frame]
  }))
  return { invocations, scenes: [...new Set(context.frames.map((f) => sceneForFrame(task.scenePath, f)))], supportFiles: [] }
}

export const KICK_ADAPTER: RendererAdapter = {
  software: 'arnold-kick',
  program: 'kick',
  plan: planKick,
  rules: [
    ...COMMON_RULES,
    { pattern: /rendering with watermarks|\[clm\].*(?:fail|error|not)/i, event: error('license') },
    { pattern: /\[ass\] (?:can't|cannot|could not) (?:open|read)/i, event: error('scene-unreadable') },
    { pattern: /render done in ([\d:.]+)/, event: frameDoneTimed },
    { pattern: /\| +(\d+)% done/, event: percentProgress },
    { pattern: /\bERROR +\|/, event: error('renderer-error') }
  ]
}
