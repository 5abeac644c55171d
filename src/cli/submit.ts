/**
 * `cr submit`: a job from flags, a job file, or a file with flags on top. The job is
 * checked in full (each field as the protocol checks it, the scene on this machine)
 * before anything is opened or written, so bad input costs nothing and exits 2.
 */
import { hostname, userInfo } from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { InvalidJobFieldsError, type JobFieldProblem } from '../node/controller/errors.js'
import { assertSceneExists, buildJobSpec, readJobFile } from '../node/controller/job-input.js'
import type { JobFields } from '../protocol/events.js'
import type { FarmView } from '../protocol/view.js'
import { splitWords } from '../render/adapters/command.js'
import { UnsupportedOptionError } from '../render/errors.js'
import { inSession, withConnectionOptions, type ConnectionOptions } from './connection.js'
import { UsageError } from './exit.js'
import { printable, shortIdOf } from './format.js'
import { machineLocalFolderOf } from './machine-local.js'
import { numeric } from './parse.js'

interface SubmitOptions extends ConnectionOptions {
  readonly file?: string
  readonly name?: string
  readonly project?: string
  readonly user?: string
  readonly software?: string
  readonly scene?: string
  readonly target?: string
  readonly frames?: string
  readonly blockSize?: string
  readonly priority?: string
  readonly class?: string
  readonly layer?: string
  readonly camera?: string
  readonly imageName?: string
  readonly format?: string
  readonly maxRetries?: string
  readonly timeoutPerFrame?: string
  readonly disabled?: boolean
  readonly command?: string
  readonly allowMissingScene?: boolean
  readonly json?: boolean
}

/** The flag that sets each job field, to name it when the field is refused. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  name: '--name',
  project: '--project',
  user: '--user',
  software: '--software',
  scenePath: '--scene',
  targetPath: '--target',
  frameStart: '--frames',
  frameEnd: '--frames',
  blockSize: '--block-size',
  priority: '--priority',
  classification: '--class',
  layer: '--layer',
  camera: '--camera',
  imageName: '--image-name',
  imageFormat: '--format',
  maxRetries: '--max-retries',
  timeoutPerFrameS: '--timeout-per-frame',
  enabled: '--disabled',
  commandTemplate: '--command'
}

export function addSubmitCommand (program: Command): void {
  withConnectionOptions(program.command('submit'))
    .description('submit a job from flags or a job file (flags override the file); prints its short and full id')
    .option('--file <job.toml|job.json>', 'a job file keyed by field name (name, project, software, scenePath, frameStart, ...)')
    .option('--name <name>', 'the job\'s name')
    .option('--project <project>', 'project')
    .option('--user <user>', 'who submits it (default: this OS user)')
    .option('--software <software>', 'renderer: maya-mray, maya-vray, maya-arnold, maya-hardware, maya-software, nuke, blender, arnold-kick, vray-standalone, procedural, command')
    .option('--scene <path>', 'the scene file, as render nodes see it (a relative path is taken from this directory)')
    .option('--target <dir>', 'where finished frames go (a relative path is taken from this directory)')
    .option('--frames <start-end>', 'frame range, e.g. 1-100 or 7')
    .option('--block-size <frames>', 'frames per block (default 1)')
    .option('--priority <0-99>', 'higher renders first (default 50)')
    .option('--class <A-Z>', 'classification: only nodes accepting it render the job (default A)')
    .option('--layer <layer>', 'render layer')
    .option('--camera <camera>', 'renderable camera')
    .option('--image-name <name>', 'output image name')
    .option('--format <ext>', 'output image format, e.g. png or exr')
    .option('--max-retries <n>', 'failures of a block before it is given up (default 3)')
    .option('--timeout-per-frame <duration>', 'render timeout, e.g. 90s, 10m or 1h30m per frame: a block running longer than this times its frames (plus the node\'s start-up grace) is stopped and retried (default: the node\'s [render] timeoutPerFrame, if any)')
    .option('--disabled', 'submit it disabled: no node takes it until `cr job enable`')
    .option('--command <template>', 'for software "command": the program and arguments, with {scene} {start} {end} ... placeholders')
    .option('--allow-missing-scene', 'submit even though the scene is not on this machine (only the render nodes can see it)')
    .option('--json', 'print the submitted job as JSON')
    .action(async (options: SubmitOptions) => {
      const job = await jobFrom(options)
      if (options.allowMissingScene !== true) await assertSceneExists(job)
      const written = await inSession(options, 'write', async ({ controller, write }) => {
        for (const warning of machineLocalWarnings(job, controller.view())) console.error(`cr: warning: ${warning}`)
        return write({ type: 'job.submitted', job })
      })
      const { body } = written.event
      if (body.type !== 'job.submitted') throw new Error(`wrote a ${body.type} event for a submission`)
      if (options.json === true) console.log(JSON.stringify(body.job))
      else console.log(`submitted ${printable(body.job.name)}: job ${shortIdOf(body.job.id)} (${body.job.id})`)
    })
}

async function jobFrom (options: SubmitOptions): Promise<JobFields> {
  const fromFile = options.file === undefined ? {} : await readJobFile(options.file)
  const fromFlags = {
    name: options.name,
    project: options.project,
    user: options.user,
    software: options.software,
    scenePath: options.scene,
    targetPath: options.target,
    ...framesOf(options.frames),
    blockSize: numeric(options.blockSize),
    priority: numeric(options.priority),
    classification: options.class,
    layer: options.layer,
    camera: options.camera,
    imageName: options.imageName,
    imageFormat: options.format,
    maxRetries: numeric(options.maxRetries),
    timeoutPerFrameS: options.timeoutPerFrame,
    enabled: options.disabled === true ? false : undefined,
    commandTemplate: options.command === undefined ? undefined : commandWords(options.command)
  }
  const flagged = Object.fromEntries(Object.entries(fromFlags).filter(([, value]) => value !== undefined))
  const fields: Record<string, unknown> = { ...fromFile, ...flagged }
  for (const field of ['scenePath', 'targetPath']) fields[field] = fromHere(fields[field])
  try {
    return buildJobSpec(fields, { user: userInfo().username })
  } catch (error) {
    if (!(error instanceof InvalidJobFieldsError)) throw error
    const [first, ...rest] = error.problems
    throw new InvalidJobFieldsError([asTyped(first, flagged), ...rest.map((problem) => asTyped(problem, flagged))])
  }
}

/** A problem named as the person typed it: the flag beside the field a flag set, the flag alone for one left out. */
function asTyped (problem: JobFieldProblem, flagged: Readonly<Record<string, unknown>>): JobFieldProblem {
  const flag = FLAG_OF_FIELD[problem.field]
  if (flag === undefined) return problem
  if (problem.missing) return { ...problem, field: flag }
  return problem.field in flagged ? { ...problem, field: `${problem.field} (${flag})` } : problem
}

/**
 * A relative path as the absolute one it means here: render nodes run elsewhere, in other
 * folders, so the job must carry the path from where the artist typed it. Blank or
 * non-text values are left for the schema to refuse.
 */
function fromHere (value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !path.isAbsolute(value) ? path.resolve(value) : value
}

/** Nodes named other than this host: by default a node is named after its host, so these are other machines. */
function otherMachines (view: FarmView): string[] {
  const here = hostname()
  return view.nodes.filter((node) => node.name !== here).map((node) => printable(node.name))
}

/** Why the job's scene or target may be out of the render nodes' reach, when nodes run on other machines. */
function machineLocalWarnings (job: JobFields, view: FarmView): string[] {
  const others = otherMachines(view)
  if (others.length === 0) return []
  const nodes = `${others.slice(0, 3).join(', ')}${others.length > 3 ? ` and ${others.length - 3} more` : ''}`
  const checked = [['scene', job.scenePath], ['target', job.targetPath]] as const
  return checked.flatMap(([what, file]) => {
    const folder = machineLocalFolderOf(file)
    if (folder === undefined) return []
    return [`the ${what} ${printable(file)} is in ${folder} of this machine, which render nodes on other machines (${nodes}) cannot see unless it is on storage they share; submitted anyway`]
  })
}

const FRAME_RANGE = /^(-?\d+)(?:-(-?\d+))?$/

function framesOf (text: string | undefined): { frameStart?: number, frameEnd?: number } {
  if (text === undefined) return {}
  const match = FRAME_RANGE.exec(text.trim())
  if (match === null) throw new UsageError('--frames', `must be START-END such as 1-100, or one frame; got ${JSON.stringify(text)}`)
  const start = Number(match[1])
  return { frameStart: start, frameEnd: match[2] === undefined ? start : Number(match[2]) }
}

/** The template split as the command renderer will split it, so what is checked is what runs. */
function commandWords (template: string): string[] {
  try {
    return splitWords(template)
  } catch (error) {
    if (!(error instanceof UnsupportedOptionError)) throw error
    throw new UsageError('--command', error.message)
  }
}
