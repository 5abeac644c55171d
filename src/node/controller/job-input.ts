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
import { parseDurationS } from '../../protocol/duration.js'
import { validateJobFields } from '../../protocol/encoding.js'
import { InvalidEventError } from '../../protocol/errors.js'
import type { JobFields, JobSpec } from '../../protocol/events.js'
import { jobFieldsSchema } from '../../protocol/schemas.js'
import { DEFAULT_BLOCK_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_PRIORITY } from '../../protocol/vocabulary.js'
import { JobFileError, SceneNotFoundError } from './errors.js'

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
 * InvalidEventError naming the first bad or unknown field (an `id` among them: ids are
 * given by the submit event, never chosen).
 */
export function buildJobSpec (fields: Readonly<Record<string, unknown>>, defaults: { readonly user: string }): JobFields {
  for (const key of Object.keys(fields)) {
    if (key === 'id') throw new InvalidEventError(key, 'a job\'s id is given by its submit event and cannot be chosen; leave it out')
    if (!JOB_FIELDS.has(key)) throw new InvalidEventError(key, `not a job field; expected one of ${[...JOB_FIELDS].join(', ')}`)
  }
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
  if (typeof given.timeoutPerFrameS === 'string') given.timeoutPerFrameS = durationOf('timeoutPerFrameS', given.timeoutPerFrameS)
  return validateJobFields({ ...OPTIONAL_FIELDS, user: defaults.user, ...given })
}

/** A duration people wrote (`90s`, `10m`, `1h30m`) as the whole seconds the field holds. */
function durationOf (field: string, text: string): number {
  const seconds = parseDurationS(text)
  if (seconds === undefined) throw new InvalidEventError(field, `must be a duration such as 90s, 10m or 1h30m, or whole seconds; got ${JSON.stringify(text)}`)
  return seconds
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
