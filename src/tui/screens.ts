/** The TUI's screens, in tab order, with the number key that opens each. */
export type Screen = 'jobs' | 'detail' | 'nodes' | 'logs'

export const SCREENS: readonly { readonly id: Screen, readonly key: string, readonly title: string }[] = [
  { id: 'jobs', key: '1', title: 'Jobs' },
  { id: 'detail', key: '2', title: 'Job detail' },
  { id: 'nodes', key: '3', title: 'Nodes' },
  { id: 'logs', key: '4', title: 'Logs' }
]
