/**
 * Nuke in terminal render mode: `nuke -x -F start-end -X write -m threads script.nk`.
 * Nuke writes where the script's Write nodes say, so for a contained render an init.py on
 * NUKE_PATH points them at the scratch folder when the script loads.
 */
import { UnsupportedOptionError } from '../errors.js'
import { formatFrameRun, frameRuns } from '../task.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, error, frameDoneFromPath, optionalArgs, threadArgs } from './rules.js'
import type { PlanContext, RenderPlan, RendererAdapter } from './types.js'

const INIT_FILE = 'init.py'

/**
 * Python that rewrites the Write nodes' file knobs to `<out>/<image>[.<node>].%04d.<ext>`.
 * JSON string literals are valid Python string literals, which keeps any path safe to embed.
 */
function initPy(task: RenderTask, outputDir: string): string {
  return [
    '# Written by Constellation Render for one contained render; deleted with its scratch folder.',
    'import os',
    'import nuke',
    `_OUT = ${JSON.stringify(outputDir)}`,
    `_IMAGE = ${JSON.stringify(task.imageName)}`,
    `_FORMAT = ${JSON.stringify(task.imageFormat ?? '')}`,
    `_WRITE = ${JSON.stringify(task.writeNode ?? '')}`,
    '',
    'def _cr_contain_writes():',
    "    for node in nuke.allNodes('Write', recurseGroups=True):",
    '        if _WRITE and node.fullName() != _WRITE:',
    '            continue',
    "        ext = _FORMAT or os.path.splitext(node['file'].value())[1].lstrip('.') or 'exr'",
    "        name = _IMAGE if _WRITE else _IMAGE + '.' + node.fullName().replace('.', '_')",
    "        node['file'].setValue(os.path.join(_OUT, name + '.%04d.' + ext).replace(os.sep, '/'))",
    '        if _FORMAT:',
    "            node['file_type'].setValue(_FORMAT)",
    '',
    'nuke.addOnScriptLoad(_cr_contain_writes)',
    ''
  ].join('\n')
}

function planNuke(task: RenderTask, context: PlanContext): RenderPlan {
  if (task.layer !== undefined || task.camera !== undefined) throw new UnsupportedOptionError('nuke', 'a Nuke script has no render layer or camera to choose; name the Write node instead')
  const ranges = frameRuns(context.frames).flatMap((run) => ['-F', formatFrameRun(run)])
  const inherited = context.env.NUKE_PATH
  const delimiter = context.platform === 'win32' ? ';' : ':'
  return {
    invocations: [{
      file: context.executable,
      args: ['-x', '-V', '2', ...threadArgs('-m', task.limits.threads), ...ranges, ...optionalArgs('-X', task.writeNode), task.scenePath],
      env: { NUKE_PATH: inherited === undefined || inherited === '' ? context.supportDir : `${context.supportDir}${delimiter}${inherited}` },
      frames: context.frames
    }],
    scenes: [task.scenePath],
    supportFiles: [{ name: INIT_FILE, content: initPy(task, context.outputDir) }]
  }
}

export const NUKE_ADAPTER: RendererAdapter = {
  software: 'nuke',
  program: 'nuke',
  plan: planNuke,
  rules: [
    ...COMMON_RULES,
    { pattern: /Writing (.+?) took ([\d.]+) seconds/, event: frameDoneFromPath },
    { pattern: /^Usage: nuke/i, event: error('usage') },
    { pattern: /Eddy\[ERROR\]|\bERROR: /, event: error('renderer-error') }
  ]
}
