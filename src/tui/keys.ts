/**
 * Every key, on which screens it works and what it does: the one table both the key
 * handler and the `?` overlay read, so the help never lists a key that does nothing.
 */
import type { Screen } from './screens.js'

export type Command =
  | 'quit' | 'help' | 'next-screen' | 'screen-jobs' | 'screen-detail' | 'screen-nodes' | 'screen-logs'
  | 'up' | 'down' | 'page-up' | 'page-down' | 'open' | 'back' | 'filter'
  | 'halt' | 'resume' | 'enable' | 'disable' | 'priority-up' | 'priority-down' | 'priority-set' | 'retry' | 'delete' | 'submit'
  | 'block' | 'edit-node' | 'logs-of' | 'severity' | 'clear-filter' | 'follow'

export interface Binding {
  readonly keys: readonly string[]
  /** What the help overlay shows for the keys, when not the keys themselves. */
  readonly label?: string
  readonly command: Command
  readonly help: string
  /** Screens it works on; every screen when absent. */
  readonly screens?: readonly Screen[]
}

const JOB_SCREENS: readonly Screen[] = ['jobs', 'detail']

export const BINDINGS: readonly Binding[] = [
  { keys: ['1'], command: 'screen-jobs', help: 'Jobs' },
  { keys: ['2'], command: 'screen-detail', help: 'Job detail of the selected job' },
  { keys: ['3'], command: 'screen-nodes', help: 'Nodes' },
  { keys: ['4'], command: 'screen-logs', help: 'Logs' },
  { keys: ['tab'], command: 'next-screen', help: 'next screen' },
  { keys: ['up', 'k'], label: 'up/k', command: 'up', help: 'previous row' },
  { keys: ['down', 'j'], label: 'down/j', command: 'down', help: 'next row' },
  { keys: ['pageup'], command: 'page-up', help: 'a page up' },
  { keys: ['pagedown'], command: 'page-down', help: 'a page down' },
  { keys: ['return'], label: 'enter', command: 'open', help: 'open the selected job', screens: ['jobs'] },
  { keys: ['escape'], label: 'esc', command: 'back', help: 'back to Jobs', screens: ['detail'] },
  { keys: ['/'], command: 'filter', help: 'filter by name, project, user or status', screens: ['jobs'] },
  { keys: ['n'], command: 'submit', help: 'submit a job (form)', screens: ['jobs'] },
  { keys: ['h'], command: 'halt', help: 'halt the job', screens: JOB_SCREENS },
  { keys: ['r'], command: 'resume', help: 'resume the job', screens: JOB_SCREENS },
  { keys: ['e'], command: 'enable', help: 'enable the job', screens: JOB_SCREENS },
  { keys: ['d'], command: 'disable', help: 'disable the job', screens: JOB_SCREENS },
  { keys: ['+', '='], label: '+', command: 'priority-up', help: 'priority up by one', screens: JOB_SCREENS },
  { keys: ['-'], command: 'priority-down', help: 'priority down by one', screens: JOB_SCREENS },
  { keys: ['p'], command: 'priority-set', help: 'set the priority (0-99)', screens: JOB_SCREENS },
  { keys: ['R'], command: 'retry', help: 'retry the failed blocks (asks first)', screens: JOB_SCREENS },
  { keys: ['D'], command: 'delete', help: 'delete the job (asks first)', screens: JOB_SCREENS },
  { keys: ['l'], command: 'logs-of', help: 'its log records on the Logs screen', screens: ['jobs', 'detail', 'nodes'] },
  { keys: ['b'], command: 'block', help: 'block (asks first) or unblock the node', screens: ['nodes'] },
  { keys: ['E'], command: 'edit-node', help: 'edit its limits, classes and schedule', screens: ['nodes'] },
  { keys: ['s'], command: 'severity', help: 'cycle the severity shown (info, warn, error)', screens: ['logs'] },
  { keys: ['c'], command: 'clear-filter', help: 'clear the job and node filter', screens: ['logs'] },
  { keys: ['end', 'G'], label: 'end/G', command: 'follow', help: 'follow new records', screens: ['logs'] },
  { keys: ['?'], command: 'help', help: 'these keys' },
  { keys: ['q'], command: 'quit', help: 'quit' }
]

/** The command `key` runs on `screen`, if any. */
export function commandFor (key: string, screen: Screen): Command | undefined {
  return BINDINGS.find((binding) => binding.keys.includes(key) && (binding.screens === undefined || binding.screens.includes(screen)))?.command
}

export function bindingsOn (screen: Screen): Binding[] {
  return BINDINGS.filter((binding) => binding.screens === undefined || binding.screens.includes(screen))
}
