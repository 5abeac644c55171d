/**
 * The node editor's rules: a node's name, limits (the set outside and the set inside
 * work-hours windows) and classes as `cr node set` takes them, each checked as it is
 * typed by the protocol's own validation of a settings change.
 */
import { numeric } from '../../cli/parse.js'
import { validateBody } from '../../protocol/encoding.js'
import { InvalidEventError } from '../../protocol/errors.js'
import type { NodeView } from '../../protocol/view.js'
import { CLASSIFICATIONS, UNLIMITED } from '../../protocol/vocabulary.js'
import type { FormField } from './form.js'

export type NodeKey = 'name' | 'threadLimit' | 'memoryLimitMb' | 'workThreadLimit' | 'workMemoryLimitMb' | 'classifications'

export const NODE_FIELDS: readonly FormField<NodeKey>[] = [
  { key: 'name', label: 'name', hint: 'rename it' },
  { key: 'threadLimit', label: 'threads', hint: 'thread limit; -1 or "unlimited"' },
  { key: 'memoryLimitMb', label: 'memory MB', hint: 'memory limit in MB; -1 or "unlimited"' },
  { key: 'workThreadLimit', label: 'work threads', hint: 'thread limit inside work-hours windows' },
  { key: 'workMemoryLimitMb', label: 'work memory MB', hint: 'memory limit inside work-hours windows' },
  { key: 'classifications', label: 'classes', hint: 'job classes it takes, e.g. AB or "all"' }
]

export type NodeValues = Readonly<Record<NodeKey, string>>

function limitText (value: number): string {
  return value === UNLIMITED ? 'unlimited' : String(value)
}

export function nodeValuesOf (node: NodeView): NodeValues {
  return {
    name: node.name,
    threadLimit: limitText(node.threadLimit),
    memoryLimitMb: limitText(node.memoryLimitMb),
    workThreadLimit: limitText(node.workThreadLimit),
    workMemoryLimitMb: limitText(node.workMemoryLimitMb),
    classifications: node.classifications.length === CLASSIFICATIONS.length ? 'all' : node.classifications.join('')
  }
}

function valueOf (key: NodeKey, text: string): unknown {
  const trimmed = text.trim()
  if (key === 'name') return trimmed
  if (key === 'classifications') {
    if (trimmed.toLowerCase() === 'all') return [...CLASSIFICATIONS]
    // Letters with or without separators: A,B or AB.
    return Array.from(trimmed.matchAll(/[^\s,]/g), ([letter]) => letter.toUpperCase())
  }
  return trimmed.toLowerCase() === 'unlimited' ? UNLIMITED : numeric(trimmed)
}

/** The fields changed from `before`, as a settings change. */
export function nodeChanges (before: NodeValues, values: NodeValues): Record<string, unknown> {
  const changed = (Object.keys(values) as NodeKey[]).filter((key) => values[key].trim() !== before[key].trim())
  return Object.fromEntries(changed.map((key) => [key, valueOf(key, values[key])]))
}

/** Each changed field's error, as the protocol words it. */
export function nodeErrors (node: NodeView, before: NodeValues, values: NodeValues): Partial<Record<NodeKey, string>> {
  const errors: Partial<Record<NodeKey, string>> = {}
  for (const [key, value] of Object.entries(nodeChanges(before, values))) {
    try {
      validateBody({ type: 'node.settings', node: node.id, changes: { [key]: value } })
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error
      errors[key as NodeKey] = error.why
    }
  }
  return errors
}
