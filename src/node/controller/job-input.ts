/**
 * A job as an artist describes it, from flags or a job file (TOML or JSON, keyed by the
 * job's field names), made into a job's full fields: defaults for what may be left out,
 * then the protocol's own validation, so a refusal names the field exactly as the log
 * would. The id is not chosen here: the submit event gives it (job-id.ts). The scene is
 * checked on this machine, which is where the artist works.
 */
import { access, readFile } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseToml, TomlError } from 'smol-toml'
import type { z } from 'zod'
import { parseDurationS } from '../../protocol/duration.js'
import type { JobFields, JobSpec } from '../../protocol/events.js'
import { jobFieldsSchema } from '../../protocol/schemas.js'
import { DEFAULT_BLOCK_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_PRIORITY } from '../../protocol/vocabulary.js'
import { COMMAND_PLACEHOLDERS, unknownPlaceholders } from '../../render/adapters/command.js'
import { InvalidJobFieldsError, JobFileError, SceneNotFoundError, type JobFieldProblem } from './errors.js'

/** What a submission may leave out. The submitting user comes from the caller. */
const OPTIONAL_FIELDS = {
  blockSize: DEFAULT_BLOCK_SIZE,
  priority: DEFAULT_PRIORITY,
  classification: 'A',
  maxRetries: DEFAULT_MAX_RETRIES,
  enabled: true,
  layer: null,
  camera: null,
  imageName: null,
  imageFormat: null,
  commandTemplate: null
} as const

const JOB_FIELDS: ReadonlySet<string> = new Set(Object.keys(jobFieldsSchema.shape))

/**
 * Validated job fields from loose ones: undefined fields take their default. Throws
 * InvalidJobFieldsError naming every bad, missing or unknown field (an `id` among them:
 * ids are given by the submit event, never chosen).
 */
export function buildJobSpec (fields: Readonly<Record<string, unknown>>, defaults: { readonly user: string }): JobFields {
  const problems: JobFieldProblem[] = []
  const given: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'id') problems.push(problem(key, 'a job\'s id is given by its submit event and cannot be chosen; leave it out'))
    else if (!JOB_FIELDS.has(key)) problems.push(problem(key, `not a job field; expected one of ${[...JOB_FIELDS].join(', ')}`))
    else if (value !== undefined) given[key] = value
  }
  if (typeof given.timeoutPerFrameS === 'string') {
    const seconds = parseDurationS(given.timeoutPerFrameS)
    if (seconds === undefined) {
      problems.push(problem('timeoutPerFrameS', `must be a duration such as 90s, 10m or 1h30m, or whole seconds; got ${JSON.stringify(given.timeoutPerFrameS)}`))
      delete given.timeoutPerFrameS
    } else {
      given.timeoutPerFrameS = seconds
    }
  }
  const input: Record<string, unknown> = { ...OPTIONAL_FIELDS, user: defaults.user, ...given }
  const parsed = jobFieldsSchema.safeParse(input)
  if (!parsed.success) problems.push(...fieldProblems(parsed.error.issues, input))
  else problems.push(...templateProblems(parsed.data.commandTemplate))
  const [first, ...rest] = problems
  if (first !== undefined) throw new InvalidJobFieldsError([first, ...rest])
  if (!parsed.success) throw new Error('the job schema refused the fields without an issue')
  return parsed.data
}

/** A template placeholder no render fills would fail on every node alike: refused now, with the ones there are. */
function templateProblems (template: readonly string[] | null): JobFieldProblem[] {
  const unknown = unknownPlaceholders(template ?? [])
  if (unknown.length === 0) return []
  const known = COMMAND_PLACEHOLDERS.map((name) => `{${name}}`).join(' ')
  return [problem('commandTemplate', `unknown placeholder ${unknown.map((name) => `{${name}}`).join(', ')}; the placeholders are ${known} (and {frame:4} to pad)`)]
}

function problem (field: string, why: string, missing = false): JobFieldProblem {
  return { field, why, missing }
}

/**
 * The schema's issues as problems. A rule across fields (a `custom` issue) is dropped for
 * a field already refused on its own: block size 0 is below 1, and that is all to say.
 */
function fieldProblems (issues: readonly z.core.$ZodIssue[], input: Readonly<Record<string, unknown>>): JobFieldProblem[] {
  const all = issues.map((issue) => ({ issue, problem: problemOf(issue, input) }))
  const refused = new Set(all.filter(({ issue }) => issue.code !== 'custom').map(({ problem }) => problem.field))
  return all.filter(({ issue, problem }) => issue.code !== 'custom' || !refused.has(problem.field)).map(({ problem }) => problem)
}

/** A schema issue as the field it names; a field absent from the input was missing, not wrong. */
function problemOf (issue: z.core.$ZodIssue, input: Readonly<Record<string, unknown>>): JobFieldProblem {
  const field = issue.path.length === 0 ? 'job' : issue.path.map(String).join('.')
  const top = issue.path[0]
  return problem(field, issue.message, typeof top === 'string' && issue.path.length === 1 && input[top] === undefined)
}

/** Reads a job file's fields: `.toml` or `.json`. Throws JobFileError when it is neither readable nor parseable. */
export async function readJobFile (file: string): Promise<Record<string, unknown>> {
  const format = path.extname(file).toLowerCase()
  if (format !== '.toml' && format !== '.json') throw new JobFileError(file, 'must end in .toml or .json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new JobFileError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error })
  }
  const parsed = format === '.toml' ? parseTomlFile(file, text) : parseJsonFile(file, text)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new JobFileError(file, 'must hold one job (a table of fields)')
  return parsed as Record<string, unknown>
}

function parseTomlFile (file: string, text: string): unknown {
  try {
    return parseToml(text)
  } catch (error) {
    if (!(error instanceof TomlError)) throw error
    throw new JobFileError(file, `not TOML at line ${error.line}: ${error.message.split('\n')[0] ?? ''}`, { cause: error })
  }
}

function parseJsonFile (file: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error
    throw new JobFileError(file, `not JSON: ${error.message}`, { cause: error })
  }
}

/** Throws SceneNotFoundError unless the job's scene exists here. */
export async function assertSceneExists (job: Pick<JobSpec, 'scenePath'>): Promise<void> {
  try {
    await access(job.scenePath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new SceneNotFoundError(job.scenePath)
  }
}
