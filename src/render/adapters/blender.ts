/**
 * Blender in background mode. Argument order matters to Blender, which acts on each
 * argument as it reads it: -Y (or -y) and --python-exit-code before the scene (its
 * scripts would run on load), the output, format and threads before -a (which renders at
 * once). Without --python-exit-code a failing script still exits 0. The scene's own
 * Python (drivers, registered text blocks) runs only when the node allows it: -y enables
 * auto-execution, -Y disables it whatever Blender's preferences say. Our --python-expr
 * runs either way.
 */
import { frameRuns, runFrames } from '../task.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, error, frameDoneFromPath, optionalArgs, parseDuration, pathsOf, threadArgs, warning } from './rules.js'
import type { PlanContext, RenderPlan, RendererAdapter } from './types.js'

/** Exit code for a Python error, distinct from Blender's own 1. */
export const BLENDER_PYTHON_EXIT_CODE = 86

/** Common extensions to Blender's -F names; anything else is passed through for Blender to judge. */
const FORMATS: Readonly<Record<string, string>> = {
  png: 'PNG', jpg: 'JPEG', jpeg: 'JPEG', exr: 'OPEN_EXR', tif: 'TIFF', tiff: 'TIFF', tga: 'TGA', bmp: 'BMP', hdr: 'HDR'
}

/** Camera and view layer have no flags; a Python expression sets them after the scene loads. */
function sceneSetup(task: RenderTask): string | undefined {
  const lines: string[] = []
  if (task.camera !== undefined) lines.push(`bpy.context.scene.camera = bpy.data.objects[${JSON.stringify(task.camera)}]`)
  if (task.layer !== undefined) {
    lines.push(`assert ${JSON.stringify(task.layer)} in bpy.context.scene.view_layers, 'no view layer ' + ${JSON.stringify(task.layer)}`)
    lines.push(`for layer in bpy.context.scene.view_layers: layer.use = layer.name == ${JSON.stringify(task.layer)}`)
  }
  return lines.length === 0 ? undefined : ['import bpy', ...lines].join('\n')
}

function planBlender(task: RenderTask, context: PlanContext): RenderPlan {
  const format = task.imageFormat === undefined ? undefined : (FORMATS[task.imageFormat.toLowerCase()] ?? task.imageFormat.toUpperCase())
  const setup = sceneSetup(task)
  const before = [
    '-b', task.blenderScripts === true ? '-y' : '-Y', '--python-exit-code', String(BLENDER_PYTHON_EXIT_CODE), task.scenePath,
    ...optionalArgs('--python-expr', setup),
    '-o', pathsOf(context.platform).join(context.outputDir, `${task.imageName}_####`),
    ...optionalArgs('-F', format),
    '-x', '1',
    ...threadArgs('-t', task.limits.threads)
  ]
  return {
    invocations: frameRuns(context.frames).map((run) => ({
      file: context.executable,
      args: [...before, '-s', String(run.start), '-e', String(run.end), '-j', String(run.step), '-a'],
      frames: runFrames(run)
    })),
    scenes: [task.scenePath],
    supportFiles: []
  }
}

export const BLENDER_ADAPTER: RendererAdapter = {
  software: 'blender',
  program: 'blender',
  plan: planBlender,
  rules: [
    ...COMMON_RULES,
    { pattern: /^Saved: '(.+)'/, event: frameDoneFromPath },
    { pattern: /^ Time: (\d+:\d+(?::\d+)?\.\d+) \(Saving/, event: (m) => ({ kind: 'frame-time', ms: parseDuration(m[1] ?? '') ?? 0 }) },
    { pattern: /^Fra:-?\d+ .*\| Sample (\d+)\/(\d+)/, event: (m) => ({ kind: 'frame-progress', fraction: Number(m[1]) / Math.max(1, Number(m[2])) }) },
    { pattern: /^Error: Cannot read file '.*': No such file/, event: error('scene-missing') },
    { pattern: /^Error: (?:Cannot read file|File format is not supported)/, event: error('scene-unreadable') },
    { pattern: /^Error: Format from '-F/, event: error('usage') },
    { pattern: /^Render error .*cannot save/, event: error('renderer-error') },
    { pattern: /^Error: /, event: error('renderer-error') },
    // Scripts in the scene may raise and render on; --python-exit-code covers ours.
    { pattern: /^Traceback \(most recent call last\)/, event: warning }
  ]
}
