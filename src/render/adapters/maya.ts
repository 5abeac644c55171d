/**
 * Maya's command-line renderer, `Render`, for the five renderers the farm knows. The seed's
 * line is `Render.exe -rd <dir> -fnc name_#.ext -im <name> <scene>`; around it go the
 * renderer (-r), frames (-s -e -b), layer (-rl), camera (-cam), project (-proj), format (-of)
 * and each renderer's own thread flag.
 */
import type { Software } from '../../protocol/vocabulary.js'
import { frameRuns, runFrames } from '../task.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, error, frameDone, frameDoneFromPath, frameDoneTimed, optionalArgs, percentProgress, threadArgs, warning } from './rules.js'
import type { OutputRule, PlanContext, RenderPlan, RendererAdapter } from './types.js'
import { VRAY_FRAME_DONE } from './vray.js'

type MayaSoftware = Extract<Software, `maya-${string}`>

interface MayaRenderer {
  /** The value of `Render -r`. */
  readonly flag: string
  /** The renderer's own thread-count flag; hardware 2.0 renders on the GPU and has none. */
  readonly threadFlag: string | undefined
  /** Its frame-done and progress phrases, checked before Maya's own. */
  readonly rules: readonly OutputRule[]
}

const RENDERERS: Readonly<Record<MayaSoftware, MayaRenderer>> = {
  'maya-mray': {
    flag: 'mr',
    threadFlag: '-rt',
    rules: [
      { pattern: /progr: +writing image file .* \(frame (-?\d+)\)/, event: (m) => frameDone(Number(m[1])) },
      { pattern: /progr: +([\d.]+)% +rendered/, event: percentProgress }
    ]
  },
  'maya-vray': {
    flag: 'vray',
    threadFlag: '-threads',
    rules: [
      { pattern: /V-Ray error: /, event: error('renderer-error') },
      VRAY_FRAME_DONE,
      { pattern: /V-Ray: +(\d+(?:\.\d+)?) ?%/, event: percentProgress }
    ]
  },
  'maya-arnold': {
    flag: 'arnold',
    threadFlag: '-ai:threads',
    rules: [
      { pattern: /\[mtoa\] Failed batch render/, event: error('renderer-error') },
      // Another node may have the plug-in; this one cannot render Arnold at all.
      { pattern: /Plug-in, "mtoa", was not found/, event: error('executable-missing') },
      { pattern: /\| render done in ([\d:.]+)/, event: frameDoneTimed },
      { pattern: /\| +(\d+)% done/, event: percentProgress }
    ]
  },
  'maya-hardware': { flag: 'hw2', threadFlag: undefined, rules: [] },
  'maya-software': {
    flag: 'sw',
    threadFlag: '-n',
    rules: [{ pattern: /Percentage of rendering done: (\d+)/, event: percentProgress }]
  }
}

/** Maya's own phrases, shared by all five renderers. */
const MAYA_RULES: readonly OutputRule[] = [
  ...COMMON_RULES,
  { pattern: /^Usage: Render /, event: error('usage') },
  { pattern: /(?:unknown|invalid|unrecognized) renderer|renderer .*is not (?:registered|available)/i, event: error('unknown-renderer') },
  { pattern: /Attempt to load (?:the )?scene failed|(?:Scene|File) .*(?:failed to (?:open|load)|could not be opened)/i, event: error('scene-unreadable') },
  { pattern: /Finished Rendering (\S+?)\.?$/, event: frameDoneFromPath },
  // Maya reports missing textures and the like as `// Error:` and renders on.
  { pattern: /\bError: /, event: warning }
]

function planMaya(renderer: MayaRenderer, task: RenderTask, context: PlanContext): RenderPlan {
  const common = [
    ...optionalArgs('-rl', task.layer),
    ...optionalArgs('-cam', task.camera),
    ...optionalArgs('-proj', task.projectDir),
    '-rd', context.outputDir,
    '-im', task.imageName,
    '-fnc', 'name_#.ext',
    ...optionalArgs('-of', task.imageFormat),
    ...(renderer.threadFlag === undefined ? [] : threadArgs(renderer.threadFlag, task.limits.threads))
  ]
  // Render takes one start/end/step per run; a block is one run unless its frames are irregular.
  const invocations = frameRuns(context.frames).map((run) => ({
    file: context.executable,
    args: ['-r', renderer.flag, '-s', String(run.start), '-e', String(run.end), '-b', String(run.step), ...common, task.scenePath],
    frames: runFrames(run)
  }))
  return { invocations, scenes: [task.scenePath], supportFiles: [] }
}

function mayaAdapter(software: MayaSoftware): RendererAdapter {
  const renderer = RENDERERS[software]
  return {
    software,
    program: 'maya',
    plan: (task, context) => planMaya(renderer, task, context),
    rules: [...renderer.rules, ...MAYA_RULES]
  }
}

export const MAYA_ADAPTERS: readonly RendererAdapter[] = (Object.keys(RENDERERS) as MayaSoftware[]).map(mayaAdapter)
