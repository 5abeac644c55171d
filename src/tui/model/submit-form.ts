/**
 * The submit form's rules: each field checked as it is typed, by the same code `cr submit`
 * uses (buildJobSpec: defaults, then the protocol's own validation), so a field the form
 * accepts is one the farm accepts, and an error names the field as the log would.
 */
import { buildJobSpec } from '../../node/controller/job-input.js'
import { numeric } from '../../cli/parse.js'
import { InvalidEventError } from '../../protocol/errors.js'
import type { JobFields } from '../../protocol/events.js'
import { splitWords } from '../../render/adapters/command.js'
import { UnsupportedOptionError } from '../../render/errors.js'
import type { FormField } from './form.js'

export type SubmitKey =
  | 'name' | 'project' | 'user' | 'software' | 'scenePath' | 'targetPath' | 'frameStart' | 'frameEnd'
  | 'blockSize' | 'priority' | 'classification' | 'maxRetries' | 'timeoutPerFrameS' | 'commandTemplate'

export const SUBMIT_FIELDS: readonly FormField<SubmitKey>[] = [
  { key: 'name', label: 'name', hint: 'the job\'s name' },
  { key: 'project', label: 'project', hint: 'project' },
  { key: 'user', label: 'user', hint: 'who submits it' },
  { key: 'software', label: 'software', hint: 'blender, nuke, maya-vray, procedural, command, ...' },
  { key: 'scenePath', label: 'scene', hint: 'the scene file, as render nodes see it' },
  { key: 'targetPath', label: 'target', hint: 'where finished frames go' },
  { key: 'frameStart', label: 'first frame', hint: 'e.g. 1' },
  { key: 'frameEnd', label: 'last frame', hint: 'e.g. 100' },
  { key: 'blockSize', label: 'block size', hint: 'frames per block (default 1)' },
  { key: 'priority', label: 'priority', hint: '0-99, higher renders first (default 50)' },
  { key: 'classification', label: 'class', hint: 'A-Z (default A)' },
  { key: 'maxRetries', label: 'max retries', hint: 'failures of a block before it is given up (default 3)' },
  { key: 'timeoutPerFrameS', label: 'timeout/frame', hint: 'e.g. 90s, 10m (default: the node\'s)' },
  { key: 'commandTemplate', label: 'command', hint: 'for software "command": program and {scene} {start} {end} ...' }
]

const NUMBERS: ReadonlySet<SubmitKey> = new Set(['frameStart', 'frameEnd', 'blockSize', 'priority', 'maxRetries'])

/** Stands in for the fields not typed yet, so one field can be judged on its own. */
const PLACEHOLDER = {
  name: 'job', project: 'project', software: 'blender', scenePath: '/scene', targetPath: '/target', frameStart: 1, frameEnd: 1
} as const

export type SubmitValues = Readonly<Record<SubmitKey, string>>

export function emptySubmitValues (user: string): SubmitValues {
  const values = Object.fromEntries(SUBMIT_FIELDS.map(({ key }) => [key, ''])) as Record<SubmitKey, string>
  return { ...values, user }
}

/** The field a refusal names: a job field, or the form's own for the command's words. */
class FieldError extends Error {
  constructor (readonly field: SubmitKey, why: string) {
    super(why)
  }
}

function looseValue (key: SubmitKey, text: string): unknown {
  const trimmed = text.trim()
  if (trimmed === '') return undefined
  if (NUMBERS.has(key)) return numeric(trimmed)
  if (key !== 'commandTemplate') return trimmed
  try {
    // Split as the command renderer splits it, so what is checked is what runs.
    return splitWords(trimmed)
  } catch (error) {
    if (!(error instanceof UnsupportedOptionError)) throw error
    throw new FieldError('commandTemplate', error.message)
  }
}

function looseFields (values: Partial<SubmitValues>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([key, text]) => [key, looseValue(key as SubmitKey, text)]))
}

/** A refusal as the field it names and why; what is not a field's fault is thrown on. */
function fieldRefusal (error: unknown): { field: SubmitKey, why: string } {
  if (error instanceof FieldError) return { field: error.field, why: error.message }
  if (error instanceof InvalidEventError) return { field: error.field as SubmitKey, why: error.why }
  throw error
}

/** The job the form describes, or the first field that stops it (a required one left empty included). */
export function submittedJob (values: Partial<SubmitValues>, user: string): { readonly job: JobFields } | { readonly field: SubmitKey, readonly why: string } {
  try {
    return { job: buildJobSpec(looseFields(values), { user }) }
  } catch (error) {
    return fieldRefusal(error)
  }
}

function refusal (values: Partial<SubmitValues>, user: string, base: Record<string, unknown> = PLACEHOLDER): { field: SubmitKey, why: string } | null {
  try {
    buildJobSpec({ ...base, ...looseFields(values) }, { user })
    return null
  } catch (error) {
    return fieldRefusal(error)
  }
}

/**
 * Each typed field's error: first on its own (among placeholders), then any error that
 * only fields together meet (a last frame before the first), under the field it names.
 */
export function submitErrors (values: SubmitValues, user: string): Partial<Record<SubmitKey, string>> {
  const errors: Partial<Record<SubmitKey, string>> = {}
  for (const { key } of SUBMIT_FIELDS) {
    if (values[key].trim() === '') continue
    // A command template is judged as software "command" would have it.
    const alone = refusal({ [key]: values[key] }, user, key === 'commandTemplate' ? { ...PLACEHOLDER, software: 'command' } : PLACEHOLDER)
    if (alone !== null && alone.field === key) errors[key] = alone.why
  }
  // Fields fine on their own, judged together: the rules across fields run only once each field passes.
  const fine = Object.fromEntries(Object.entries(values).filter(([key, text]) => text.trim() !== '' && errors[key as SubmitKey] === undefined)) as Partial<SubmitValues>
  const together = refusal(fine, user)
  if (together !== null && errors[together.field] === undefined && values[together.field].trim() !== '') errors[together.field] = together.why
  return errors
}

