/**
 * The built-in procedural renderer (procedural/renderer.ts) as an adapter like any other:
 * run with the farm's own node, so it works wherever the farm does. From the TypeScript
 * sources (tests, `tsx`) it needs tsx's loader; compiled, it is plain JavaScript.
 */
import { programPath, RUNS_FROM_SOURCES } from '../../install-paths.js'
import { UnsupportedOptionError } from '../errors.js'
import type { RenderTask } from '../task.js'
import { BLENDER_ADAPTER } from './blender.js'
import type { PlanContext, RenderPlan, RendererAdapter } from './types.js'

const RENDERER_SCRIPT = programPath('render/procedural/renderer')
const NODE_ARGS = RUNS_FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : []

function planProcedural(task: RenderTask, context: PlanContext): RenderPlan {
  if (task.imageFormat !== undefined && task.imageFormat.toLowerCase() !== 'png') throw new UnsupportedOptionError('procedural', `writes PNG only, not ${task.imageFormat}`)
  if (task.layer !== undefined || task.camera !== undefined) throw new UnsupportedOptionError('procedural', 'has no render layers or cameras')
  return {
    invocations: [{
      file: context.executable,
      args: [
        ...NODE_ARGS,
        RENDERER_SCRIPT,
        '--scene', task.scenePath,
        '--out', context.outputDir,
        '--name', task.imageName,
        '--frames', context.frames.join(','),
        // Joined with '=', so -1 (unlimited) is not read as another option.
        `--threads=${task.limits.threads}`
      ],
      frames: context.frames
    }],
    scenes: [task.scenePath],
    supportFiles: []
  }
}

export const PROCEDURAL_ADAPTER: RendererAdapter = {
  software: 'procedural',
  program: 'node',
  plan: planProcedural,
  // It prints Blender's lines on purpose.
  rules: BLENDER_ADAPTER.rules
}
