/**
 * Any other renderer, through a command template with placeholders:
 *
 *   {scene} {outdir} {image} {format} {threads} {layer} {camera}
 *   {frame} or {frame:4}   one run per frame (zero-padded to 4 with :4)
 *   {start} {end} {step}   one run per arithmetic run of frames (a plain block: one run)
 *   {frames}               one run for the block, frames as a comma list
 *
 * The template is split like a shell would split words (quotes group, no other shell
 * syntax) and run without a shell, so a path with spaces or quotes is one argument. The
 * command must write `<image>_<frame>.<ext>` (or `.`) files into {outdir}.
 */
import { UnsupportedOptionError } from '../errors.js'
import { frameRuns, runFrames } from '../task.js'
import type { RenderTask } from '../task.js'
import { COMMON_RULES, padFrame } from './rules.js'
import type { Invocation, PlanContext, RenderPlan, RendererAdapter } from './types.js'

const PLACEHOLDER = /\{([a-z]+)(?::(\d+))?\}/g
/** Anything written like a placeholder, known or not: what a typo such as {Scene} or {frame_no} looks like. */
const PLACEHOLDER_LIKE = /\{([A-Za-z_]\w*)(?::\w*)?\}/g

/** Every placeholder a template may use, as the header above lists them. */
export const COMMAND_PLACEHOLDERS = ['scene', 'outdir', 'image', 'format', 'threads', 'layer', 'camera', 'frame', 'start', 'end', 'step', 'frames'] as const

/**
 * The placeholders in a template's words that no render fills, each once, in order. A
 * template with one is refused when the job is submitted: every node would fail it alike.
 */
export function unknownPlaceholders(words: readonly string[]): string[] {
  const known: ReadonlySet<string> = new Set(COMMAND_PLACEHOLDERS)
  const names = words.flatMap((word) => [...word.matchAll(PLACEHOLDER_LIKE)].map((match) => match[1] ?? ''))
  return [...new Set(names.filter((name) => !known.has(name)))]
}

/** Shell-like word splitting: whitespace separates, '...' and "..." group, \ escapes outside single quotes. */
export function splitWords(template: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === '\\' && quote === '"' && (template[i + 1] === '"' || template[i + 1] === '\\')) word += template[++i] as string
      else word += c
    } else if (c === '"' || c === "'") {
      quote = c
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      if (c === '\\' && i + 1 < template.length) i++
      word += template[i] as string
      inWord = true
    }
  }
  if (quote !== undefined) throw new UnsupportedOptionError('command', `unterminated ${quote} quote in the command template`)
  if (inWord) words.push(word)
  return words
}

type Values = Readonly<Record<string, string | undefined>>

function fill(word: string, values: Values, frame: number | undefined): string {
  return word.replace(PLACEHOLDER, (_all, name: string, width: string | undefined) => {
    if (name === 'frame' && frame !== undefined) return padFrame(frame, Number(width ?? 1))
    const value = values[name]
    if (value === undefined) throw new UnsupportedOptionError('command', `the template uses {${name}}, which this task has no value for`)
    return value
  })
}

function planCommand(task: RenderTask, context: PlanContext): RenderPlan {
  if (task.commandTemplate === undefined || task.commandTemplate.trim() === '') throw new UnsupportedOptionError('command', 'the job has no command template')
  const words = splitWords(task.commandTemplate)
  const used = new Set(words.flatMap((w) => [...w.matchAll(PLACEHOLDER)].map((m) => m[1])))
  const base: Values = {
    scene: task.scenePath,
    outdir: context.outputDir,
    image: task.imageName,
    format: task.imageFormat,
    threads: task.limits.threads > 0 ? String(task.limits.threads) : '0',
    layer: task.layer,
    camera: task.camera,
    frames: context.frames.join(',')
  }
  const invocation = (values: Values, frames: readonly number[], frame?: number): Invocation => {
    const [file, ...args] = words.map((w) => fill(w, values, frame))
    if (file === undefined || file === '') throw new UnsupportedOptionError('command', 'the command template names no program')
    return { file, args, frames }
  }
  let invocations: Invocation[]
  if (used.has('frame')) {
    invocations = context.frames.map((frame) => invocation(base, [frame], frame))
  } else if (used.has('start') || used.has('end') || used.has('step')) {
    invocations = frameRuns(context.frames).map((run) => invocation({ ...base, start: String(run.start), end: String(run.end), step: String(run.step) }, runFrames(run)))
  } else {
    invocations = [invocation(base, context.frames)]
  }
  return { invocations, scenes: used.has('scene') ? [task.scenePath] : [], supportFiles: [] }
}

export const COMMAND_ADAPTER: RendererAdapter = {
  software: 'command',
  program: undefined,
  plan: planCommand,
  rules: COMMON_RULES
}
