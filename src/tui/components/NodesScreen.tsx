/** The client table, live: status, current block with progress, classes, limits now, blocked, last seen, render figures. */
import { Box, Text } from 'ink'
import type { NodeRow } from '../model/nodes.js'
import { windowOf } from '../model/window.js'
import { Row, type Cell } from './Row.js'

export interface NodesScreenProps {
  readonly rows: readonly NodeRow[]
  readonly selected: number
  readonly height: number
  readonly width: number
}

/** The most telling columns first, so a narrow terminal cuts the least telling. */
const FIXED = [['NAME', 10], ['STATUS', 9], ['CURRENT', 15], ['BLOCKED', 7], ['SEEN', 11], ['CL', 4], ['THREADS', 9], ['MEMORY', 10], ['LIMITS', 10], ['AVG/FR', 7]] as const

function cellsOf (row: NodeRow, lastWidth: number): Cell[] {
  const texts = [row.name, row.status, row.current, row.blocked ? 'BLOCKED' : 'no', row.lastSeen, row.classes, row.threads, row.memory, row.limitsNow, row.averageFrame]
  return [
    ...FIXED.map(([, width], index) => ({ text: texts[index] ?? '', width, ...(index === 1 ? { status: row.status } : index === 3 && row.blocked ? { status: 'ERROR' } : {}) })),
    { text: String(row.frames), width: lastWidth }
  ]
}

export function NodesScreen ({ rows, selected, height, width }: NodesScreenProps): React.JSX.Element {
  const lastWidth = Math.max(6, width - FIXED.reduce((sum, [, cell]) => sum + cell + 1, 0))
  const shown = windowOf(rows.length, selected, height - 1)
  const header = [...FIXED.map(([title, cell]) => ({ text: title, width: cell })), { text: 'FRAMES', width: lastWidth }]
  return (
    <Box flexDirection='column'>
      <Row cells={header} bold />
      {rows.length === 0
        ? <Text dimColor>No render nodes known yet: a node appears once its settings or its first claim reach this peer.</Text>
        : rows.slice(shown.start, shown.end).map((row, offset) => (
          <Row key={row.id} cells={cellsOf(row, lastWidth)} selected={shown.start + offset === selected} />
        ))}
    </Box>
  )
}
