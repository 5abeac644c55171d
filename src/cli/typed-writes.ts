/**
 * What a command writes for a person: held to the rules for typed text before it is
 * signed (protocol/schemas.ts `typedNodeChangesSchema`: a node name without control
 * characters, at least one class), and refused in the command's own terms, the field a
 * person gave (`priority`, `--classes`), never the event's inner path (`changes.priority`).
 */
import { InvalidEventError } from '../protocol/errors.js'
import type { DraftBody } from '../protocol/events.js'
import { typedNodeChangesSchema } from '../protocol/schemas.js'

/** The `cr node set` flag of each node setting. */
const NODE_SETTING_FLAGS: Readonly<Record<string, string>> = {
  name: '--name',
  memoryLimitMb: '--memory',
  threadLimit: '--threads',
  workMemoryLimitMb: '--work-memory',
  workThreadLimit: '--work-threads',
  classifications: '--classes',
  schedule: '--schedule'
}

/** Throws InvalidEventError, in the command's terms, when `body` holds what a person may not type. */
export function assertTyped (body: DraftBody): void {
  if (body.type !== 'node.settings') return
  const parsed = typedNodeChangesSchema.safeParse(body.changes)
  const issue = parsed.error?.issues[0]
  if (issue !== undefined) throw inCommandTerms(body, new InvalidEventError(['changes', ...issue.path].map(String).join('.'), issue.message))
}

/** `error` with its field named as the command's user gave it; any other error as it is. */
export function inCommandTerms (body: DraftBody, error: unknown): unknown {
  if (!(error instanceof InvalidEventError) || error.ref !== undefined) return error
  const [outer, setting] = error.field.split('.')
  if (outer !== 'changes' || setting === undefined) return error
  return new InvalidEventError(body.type === 'node.settings' ? NODE_SETTING_FLAGS[setting] ?? setting : setting, error.why)
}
