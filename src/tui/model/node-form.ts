/**
 * The node editor's rules: a node's name, limits (the set outside and the set inside
 * work-hours windows), classes and weekly schedule as `cr node set` takes them (its own
 * parsers, cli/node-settings-text.ts), each checked as it is typed by the rules for what
 * people type into a settings change (protocol/schemas.ts `typedNodeChangesSchema`).
 */
import { classesText, limitValue, parseClasses, parseSchedule, scheduleText } from '../../cli/node-settings-text.js'
import { UsageError } from '../../cli/exit.js'
import { limit } from '../../cli/format.js'
import { typedNodeChangesSchema } from '../../protocol/schemas.js'
import type { NodeView } from '../../protocol/view.js'
import type { FormField } from './form.js'

export type NodeKey = 'name' | 'threadLimit' | 'memoryLimitMb' | 'workThreadLimit' | 'workMemoryLimitMb' | 'classifications' | 'schedule'

export const NODE_FIELDS: readonly FormField<NodeKey>[] = [
  { key: 'name', label: 'name', hint: 'rename it' },
  { key: 'threadLimit', label: 'threads', hint: 'thread limit; -1 or "unlimited"' },
  { key: 'memoryLimitMb', label: 'memory MB', hint: 'memory limit in MB; -1 or "unlimited"' },
  { key: 'workThreadLimit', label: 'work threads', hint: 'thread limit inside work-hours windows' },
  { key: 'workMemoryLimitMb', label: 'work memory MB', hint: 'memory limit inside work-hours windows' },
  { key: 'classifications', label: 'classes', hint: 'job classes it takes, e.g. AB or "all"' },
  { key: 'schedule', label: 'schedule', hint: 'e.g. "mon-fri 09:00-18:00 work-hours; sat,sun 00:00-24:00 no-render", or "always"' }
]

export type NodeValues = Readonly<Record<NodeKey, string>>

export function nodeValuesOf (node: NodeView): NodeValues {
  return {
    name: node.name,
    threadLimit: limit(node.threadLimit),
    memoryLimitMb: limit(node.memoryLimitMb),
    workThreadLimit: limit(node.workThreadLimit),
    workMemoryLimitMb: limit(node.workMemoryLimitMb),
    classifications: classesText(node.classifications),
    schedule: scheduleText(node.schedule)
  }
}

function valueOf (key: NodeKey, text: string): unknown {
  switch (key) {
    case 'name': return text.trim()
    case 'classifications': return parseClasses(text)
    case 'schedule': return parseSchedule(text)
    default: return limitValue(text)
  }
}

/** The fields changed from `before`, as a settings change; throws UsageError for a schedule it cannot read. */
export function nodeChanges (before: NodeValues, values: NodeValues): Record<string, unknown> {
  const changed = (Object.keys(values) as NodeKey[]).filter((key) => values[key].trim() !== before[key].trim())
  return Object.fromEntries(changed.map((key) => [key, valueOf(key, values[key])]))
}

/** Each changed field's error, as `cr node set` words it. */
export function nodeErrors (before: NodeValues, values: NodeValues): Partial<Record<NodeKey, string>> {
  const errors: Partial<Record<NodeKey, string>> = {}
  for (const key of Object.keys(values) as NodeKey[]) {
    if (values[key].trim() === before[key].trim()) continue
    let value: unknown
    try {
      value = valueOf(key, values[key])
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      errors[key] = error.why
      continue
    }
    const issue = typedNodeChangesSchema.safeParse({ [key]: value }).error?.issues[0]
    if (issue !== undefined) errors[key] = issue.message
  }
  return errors
}
