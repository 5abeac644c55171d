/**
 * What each key does to the farm, as the event body the CLI's verbs write for it
 * (cr job halt|resume|enable|disable|priority|retry|delete, cr node block|unblock|set):
 * the TUI writes them through the same controller write, which judges and confirms them.
 */
import type { EventBody } from '../protocol/events.js'
import type { JobView, NodeView } from '../protocol/view.js'
import { PRIORITY_MAX, PRIORITY_MIN } from '../protocol/vocabulary.js'

export interface FarmAction {
  /** What the status line says once it is stored, e.g. `halted job a1b2c3d4 (shot010)`. */
  readonly done: string
  readonly body: EventBody
  /** Destructive: asked for a `y` first. */
  readonly confirm?: string
}

export type JobVerb = 'halt' | 'resume' | 'enable' | 'disable' | 'retry' | 'delete' | 'priority-up' | 'priority-down'

function jobLabel (job: JobView): string {
  return `job ${job.shortId} (${job.name})`
}

function edit (job: JobView, done: string, changes: Record<string, unknown>): FarmAction {
  // Checked by the protocol when written: a bad value comes back naming the field.
  return { done: `${done} ${jobLabel(job)}`, body: { type: 'job.edited', jobId: job.id, changes } }
}

export function jobAction (job: JobView, verb: JobVerb): FarmAction {
  switch (verb) {
    case 'halt':
      return edit(job, 'halted', { halted: true })
    case 'resume':
      return edit(job, 'resumed', { halted: false })
    case 'enable':
      return edit(job, 'enabled', { enabled: true })
    case 'disable':
      return edit(job, 'disabled', { enabled: false })
    case 'priority-up':
      return setPriority(job, Math.min(PRIORITY_MAX, job.priority + 1))
    case 'priority-down':
      return setPriority(job, Math.max(PRIORITY_MIN, job.priority - 1))
    case 'retry':
      return { done: `retrying the failed blocks of ${jobLabel(job)}`, body: { type: 'job.retried', jobId: job.id }, confirm: `retry the failed blocks of ${jobLabel(job)}? Frames they left at the target may be replaced.` }
    case 'delete':
      return { done: `deleted ${jobLabel(job)}`, body: { type: 'job.deleted', jobId: job.id }, confirm: `delete ${jobLabel(job)} from the farm?` }
  }
}

/** Priority as typed: a whole number passes to the protocol's check; anything else too, to be named there. */
export function setPriority (job: JobView, priority: number | string): FarmAction {
  return edit(job, `priority ${priority}:`, { priority })
}

export function nodeSettings (node: NodeView, done: string, changes: Record<string, unknown>): FarmAction {
  return { done: `${done} node ${node.name}`, body: { type: 'node.settings', node: node.id, changes } }
}

export function blockAction (node: NodeView): FarmAction {
  return node.blocked
    ? nodeSettings(node, 'unblocked', { blocked: false })
    : { ...nodeSettings(node, 'blocked', { blocked: true }), confirm: `block node ${node.name}? It finishes its block and takes no new ones.` }
}
