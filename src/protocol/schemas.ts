/**
 * The shape of every durable fact, as zod schemas: the single source of truth for what a
 * valid event is. Types in events.ts are inferred from these, so the checks and the types
 * cannot drift apart. Objects are strict: an unknown key is refused, never stripped,
 * because stripping would change what the author signed.
 */
import { z } from 'zod'
import { parseClockTime, WEEKDAYS, WINDOW_MODES } from './schedule.js'
import {
  CLASSIFICATIONS, FAILURE_KINDS, FRAME_MS_MAX, FRAME_NUMBER_LIMIT, MAX_BLOCKS_PER_JOB, MAX_FRAMES_PER_BLOCK,
  MAX_FRAMES_PER_JOB, MAX_RETRIES_LIMIT, MAX_TIMEOUT_PER_FRAME_S, OUTPUT_LINE_MAX_CHARS, OUTPUT_TAIL_LINES, PATH_MAX_CHARS, PRIORITY_MAX,
  PRIORITY_MIN, ROLES, SOFTWARE, TEXT_MAX_CHARS, UNLIMITED
} from './vocabulary.js'

const text = (what: string, max = TEXT_MAX_CHARS): z.ZodString =>
  z.string({ error: `${what} must be text` })
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} is longer than ${max} characters` })

/** C0 controls (newline, tab, ESC...), DEL and C1 controls (CSI...): what a terminal acts on instead of showing. */
export const CONTROL_CHARACTER = /\p{Cc}/u

/**
 * Text a person types that others see in their terminals (names, project, user, paths):
 * not blank, and free of control characters, which would move a reader's cursor, clear
 * their screen or break a table's lines. Only new input is held to it (job fields as
 * submitted, node settings as typed, a node's config); the log's events stay `text`, so
 * an event written before this rule still loads: refusing it on decode would mark a
 * store that holds it damaged and cut its author's feed off there for every peer. The
 * CLI escapes control characters in whatever it prints (cli/format.ts).
 */
export const typedText = (what: string, max = TEXT_MAX_CHARS): z.ZodString =>
  text(what, max)
    .refine((value) => value.trim() !== '', { error: `${what} must not be only spaces` })
    .refine((value) => !CONTROL_CHARACTER.test(value), {
      error: (issue) => `${what} must not hold control characters such as newline, tab or ESC; got ${JSON.stringify(issue.input)}`
    })

const wholeNumber = (what: string, min: number, max: number): z.ZodInt =>
  z.int({ error: `${what} must be a whole number` })
    .min(min, { error: (issue) => `${what} ${String(issue.input)} is below ${min}` })
    .max(max, { error: (issue) => `${what} ${String(issue.input)} is above ${max}` })

const oneOf = <const T extends readonly [string, ...string[]]>(what: string, values: T) =>
  z.enum(values, {
    error: (issue) => `unknown ${what} ${JSON.stringify(issue.input)}; expected one of ${values.join(', ')}`
  })

/** A resource limit: -1 (unlimited, as in the seed) or a positive amount. */
const limit = (what: string): z.ZodInt =>
  z.int({ error: `${what} must be a whole number` })
    .refine((value) => value === UNLIMITED || value >= 1, { error: `${what} must be -1 (unlimited) or at least 1` })
    .max(1_000_000_000, { error: `${what} is implausibly large` })

export const uuidSchema = z.uuid({ error: 'must be a UUID' })
export const peerIdSchema = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{40,60}$/, { error: 'must be a peer id' })
export const classificationSchema = oneOf('classification', CLASSIFICATIONS)
export const softwareSchema = oneOf('software', SOFTWARE)
export const prioritySchema = wholeNumber('priority', PRIORITY_MIN, PRIORITY_MAX)
export const maxRetriesSchema = wholeNumber('max retries', 0, MAX_RETRIES_LIMIT)
const frameSchema = wholeNumber('frame', -FRAME_NUMBER_LIMIT, FRAME_NUMBER_LIMIT)
const blockIndexSchema = wholeNumber('block', 0, MAX_BLOCKS_PER_JOB - 1)
/** Epochs grow by one per claim of a block (see view.ts), so this bound is never near in practice. */
const epochSchema = wholeNumber('epoch', 1, 1_000_000_000)
const frameMsSchema = wholeNumber('frame time', 0, FRAME_MS_MAX)
const durationMsSchema = wholeNumber('duration', 0, Number.MAX_SAFE_INTEGER)
const outputTailSchema = z.array(z.string().max(OUTPUT_LINE_MAX_CHARS, { error: `an output line is longer than ${OUTPUT_LINE_MAX_CHARS} characters` }))
  .max(OUTPUT_TAIL_LINES, { error: `output tail has more than ${OUTPUT_TAIL_LINES} lines` })

const clockTimeSchema = z.string().refine((value) => parseClockTime(value) !== undefined, { error: 'must be a time HH:MM' })

export const scheduleWindowSchema = z.strictObject({
  days: z.array(oneOf('weekday', WEEKDAYS)).min(1, { error: 'a window needs at least one day' })
    .refine((days) => new Set(days).size === days.length, { error: 'a day is listed twice' }),
  start: clockTimeSchema,
  end: clockTimeSchema,
  mode: oneOf('window mode', WINDOW_MODES)
}).refine((window) => window.start !== window.end, { error: 'a window must not start and end at the same time', path: ['end'] })

export const scheduleSchema = z.array(scheduleWindowSchema).max(64, { error: 'a schedule has at most 64 windows' })

/** A job's fields, their text checked by `textOf`: `text` in the log, `typedText` as submitted. */
const jobFieldsShapeWith = (textOf: typeof text) => ({
  name: textOf('name', 200),
  project: textOf('project'),
  user: textOf('user'),
  software: softwareSchema,
  scenePath: textOf('scene path', PATH_MAX_CHARS),
  targetPath: textOf('target path', PATH_MAX_CHARS),
  frameStart: frameSchema,
  frameEnd: frameSchema,
  blockSize: wholeNumber('block size', 1, MAX_FRAMES_PER_BLOCK),
  layer: textOf('layer').nullable(),
  camera: textOf('camera').nullable(),
  imageName: textOf('image name', 200).nullable(),
  imageFormat: z.string().regex(/^[a-z0-9]{2,8}$/, { error: 'image format must be a short lower-case extension such as png or exr' }).nullable(),
  commandTemplate: z.array(z.string().max(PATH_MAX_CHARS)).min(1, { error: 'a command template needs the program' }).max(256).nullable(),
  priority: prioritySchema,
  classification: classificationSchema,
  maxRetries: maxRetriesSchema,
  enabled: z.boolean(),
  /**
   * Render timeout, seconds per frame: a block running longer than this times its frames
   * (plus the node's start-up grace) is stopped and fails as retryable. Absent: the
   * rendering node's default (`[render] timeoutPerFrame`), if it has one.
   */
  timeoutPerFrameS: z.int({ error: 'timeout per frame must be a whole number of seconds' })
    .min(1, { error: (issue) => `timeout per frame ${String(issue.input)} s is below 1 s` })
    .max(MAX_TIMEOUT_PER_FRAME_S, { error: (issue) => `timeout per frame ${String(issue.input)} s is above ${MAX_TIMEOUT_PER_FRAME_S} s (a week)` })
    .exactOptional()
})

const jobFieldsShape = jobFieldsShapeWith(text)

type JobFieldsShape = z.infer<z.ZodObject<typeof jobFieldsShape>>

/** The rules across fields: a sane frame range and block count, and a template exactly for `command`. */
function checkJobRules (job: JobFieldsShape, context: z.RefinementCtx): void {
  if (job.frameEnd < job.frameStart) {
    context.addIssue({ code: 'custom', path: ['frameEnd'], message: `frame end ${job.frameEnd} is before frame start ${job.frameStart}` })
  } else if (job.frameEnd - job.frameStart + 1 > MAX_FRAMES_PER_JOB) {
    context.addIssue({ code: 'custom', path: ['frameEnd'], message: `the range spans more than ${MAX_FRAMES_PER_JOB} frames` })
  } else {
    const blocks = Math.ceil((job.frameEnd - job.frameStart + 1) / job.blockSize)
    if (blocks > MAX_BLOCKS_PER_JOB) {
      const smallest = Math.ceil((job.frameEnd - job.frameStart + 1) / MAX_BLOCKS_PER_JOB)
      context.addIssue({ code: 'custom', path: ['blockSize'], message: `block size ${job.blockSize} splits the job into ${blocks} blocks; at most ${MAX_BLOCKS_PER_JOB} are allowed, so use a block size of at least ${smallest}` })
    }
  }
  if ((job.software === 'command') !== (job.commandTemplate !== null)) {
    context.addIssue({
      code: 'custom',
      path: ['commandTemplate'],
      message: job.software === 'command' ? 'software "command" needs a command template' : `a command template is only for software "command", not ${job.software}`
    })
  }
}

/** A job as a person or a script submits it: every column of the seed's constellationJobTable that is not derived. */
export const jobFieldsSchema = z.strictObject(jobFieldsShapeWith(typedText)).superRefine(checkJobRules)

/**
 * A job as its submit event carries it: the fields plus its id, which is not chosen but
 * derived from the submit event's place in its author's feed (see job-id.ts), so no later
 * event, from anyone, can submit the same id again.
 */
export const jobSpecSchema = z.strictObject({ id: uuidSchema, ...jobFieldsShape }).superRefine(checkJobRules)

const atLeastOneChange = (changes: Record<string, unknown>): boolean => Object.keys(changes).length > 0

export const jobChangesSchema = z.strictObject({
  priority: prioritySchema.exactOptional(),
  classification: classificationSchema.exactOptional(),
  maxRetries: maxRetriesSchema.exactOptional(),
  enabled: z.boolean().exactOptional(),
  halted: z.boolean().exactOptional()
}).refine(atLeastOneChange, { error: 'an edit must change at least one field' })

/** The editable columns of the seed's constellationClientTable, plus the schedule. */
export const nodeSettingsFields = {
  name: text('node name', 200).exactOptional(),
  blocked: z.boolean().exactOptional(),
  /** A wrangler took it out of the client table (decommissioned); the node's own next start puts it back. */
  removed: z.boolean().exactOptional(),
  memoryLimitMb: limit('memory limit').exactOptional(),
  threadLimit: limit('thread limit').exactOptional(),
  workMemoryLimitMb: limit('work-hour memory limit').exactOptional(),
  workThreadLimit: limit('work-hour thread limit').exactOptional(),
  classifications: z.array(classificationSchema).max(CLASSIFICATIONS.length)
    .refine((classes) => new Set(classes).size === classes.length, { error: 'a classification is listed twice' }).exactOptional(),
  schedule: scheduleSchema.exactOptional(),
  /** What the node's own config lets it run; only the node itself may state it. */
  software: z.array(softwareSchema).max(SOFTWARE.length)
    .refine((list) => new Set(list).size === list.length, { error: 'a software is listed twice' }).exactOptional()
}

export const nodeChangesSchema = z.strictObject(nodeSettingsFields)
  .refine(atLeastOneChange, { error: 'a settings change must change at least one field' })

/**
 * Node settings as a person gives them (`cr node set`, a node's config): a name held to
 * `typedText`, and at least one class, since a node that takes none is blocked in all but name.
 */
export const typedNodeSettingsFields = {
  ...nodeSettingsFields,
  name: typedText('node name', 200).exactOptional(),
  classifications: nodeSettingsFields.classifications.unwrap()
    .min(1, { error: 'a node takes at least one class; to stop it taking work, block it (cr node block)' }).exactOptional()
}

export const typedNodeChangesSchema = z.strictObject(typedNodeSettingsFields)

const blockFields = { jobId: uuidSchema, block: blockIndexSchema, epoch: epochSchema }

const frameRangeSchema = z.strictObject({ start: frameSchema, end: frameSchema })
  .refine((range) => range.start <= range.end, { error: 'a frame range must not end before it starts', path: ['end'] })

export const eventBodySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('job.submitted'), job: jobSpecSchema }),
  z.strictObject({ type: z.literal('job.edited'), jobId: uuidSchema, changes: jobChangesSchema }),
  /** Without frames: its failed blocks run again. With frames: every block holding one renders again, done or not. */
  z.strictObject({ type: z.literal('job.retried'), jobId: uuidSchema, frames: frameRangeSchema.exactOptional() }),
  z.strictObject({ type: z.literal('job.deleted'), jobId: uuidSchema }),
  z.strictObject({ type: z.literal('block.claimed'), ...blockFields }),
  z.strictObject({ type: z.literal('block.started'), ...blockFields }),
  z.strictObject({
    type: z.literal('block.finished'),
    ...blockFields,
    wallMs: durationMsSchema,
    /** Each frame's render time, in the block's frame order: one per frame of the block. */
    frameMs: z.array(frameMsSchema).min(1, { error: 'a finished block has at least one frame' }).max(MAX_FRAMES_PER_BLOCK)
  }),
  z.strictObject({
    type: z.literal('block.failed'),
    ...blockFields,
    failure: oneOf('failure kind', FAILURE_KINDS),
    message: text('message'),
    outputTail: outputTailSchema
  }),
  z.strictObject({ type: z.literal('block.released'), ...blockFields, reason: text('reason') }),
  z.strictObject({ type: z.literal('node.settings'), node: peerIdSchema, changes: nodeChangesSchema }),
  /** Grants or revokes a role; counts only from the farm's founder or a wrangler (roles.ts). */
  z.strictObject({ type: z.literal('role.changed'), peer: peerIdSchema, role: oneOf('role', ROLES), granted: z.boolean() }),
  z.strictObject({
    type: z.literal('log.recorded'),
    clientName: text('client name', 200),
    jobId: uuidSchema.nullable(),
    block: blockIndexSchema.nullable(),
    description: text('description'),
    outputTail: outputTailSchema
  })
], { error: (issue) => `unknown event type ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}` })

const bytes = (what: string, length: number) =>
  z.custom<Uint8Array>((value) => value instanceof Uint8Array, { error: `${what} must be bytes` })
    .refine((value) => value.length === length, { error: `${what} must be ${length} bytes` })

export const HASH_BYTES = 32
export const SIGNATURE_BYTES = 64
export const ENVELOPE_VERSION = 1

/** The signed envelope around a body: author's feed position, clocks, and signature. */
export const signedEventSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION, { error: `unsupported envelope version; this peer speaks ${ENVELOPE_VERSION}` }),
  author: peerIdSchema,
  seq: wholeNumber('seq', 1, Number.MAX_SAFE_INTEGER),
  prev: bytes('prev', HASH_BYTES).nullable(),
  lamport: wholeNumber('lamport', 1, Number.MAX_SAFE_INTEGER),
  wallTime: wholeNumber('wall time', 0, Number.MAX_SAFE_INTEGER),
  body: eventBodySchema,
  sig: bytes('signature', SIGNATURE_BYTES)
}).refine((event) => (event.seq === 1) === (event.prev === null), {
  error: 'prev must be null exactly for seq 1',
  path: ['prev']
})
