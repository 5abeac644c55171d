/** Jobs in scheduling order: status, progress, frames, priority, class, user, average frame time, ETA. */
import { Box, Text } from 'ink'
import type { JobRow } from '../model/jobs.js'
import { progressBar } from '../model/text.js'
import { windowOf } from '../model/window.js'
import { Row, type Cell } from './Row.js'

export interface JobsScreenProps {
  readonly rows: readonly JobRow[]
  readonly selected: number
  readonly height: number
  readonly width: number
  readonly filter: string
  /** Jobs on the farm before the filter: to tell "no jobs" from "none match". */
  readonly total: number
}

const BAR = 8
/** Every column but the name, which takes what the terminal has left (at least MIN_NAME). */
const FIXED = [['PROGRESS', BAR + 2], ['FRAMES', 9], ['PRI', 3], ['CL', 2], ['USER', 8], ['AVG/FR', 7], ['ETA', 8]] as const
const STATUS_WIDTH = 9
const MIN_NAME = 12

function cellsOf (row: JobRow, nameWidth: number): Cell[] {
  const texts = [progressBar(row.framesDone, row.framesTotal, BAR), `${row.framesDone}/${row.framesTotal}`, String(row.priority), row.classification, row.user, row.averageFrame, row.eta]
  return [
    { text: row.status, width: STATUS_WIDTH, status: row.status },
    { text: row.name, width: nameWidth },
    ...FIXED.map(([, width], index) => ({ text: texts[index] ?? '', width }))
  ]
}

export function JobsScreen ({ rows, selected, height, width, filter, total }: JobsScreenProps): React.JSX.Element {
  const nameWidth = Math.max(MIN_NAME, width - STATUS_WIDTH - 1 - FIXED.reduce((sum, [, cell]) => sum + cell + 1, 0))
  const shown = windowOf(rows.length, selected, height - 1)
  const header = [{ text: 'STATUS', width: STATUS_WIDTH }, { text: 'NAME', width: nameWidth }, ...FIXED.map(([title, cell]) => ({ text: title, width: cell }))]
  return (
    <Box flexDirection='column'>
      <Row cells={header} bold />
      {rows.length === 0
        ? <Text dimColor>{total === 0 ? 'No jobs on the farm yet. Press n to submit one.' : `No job matches "${filter}". Press / to change the filter.`}</Text>
        : rows.slice(shown.start, shown.end).map((row, offset) => (
          <Row key={row.id} cells={cellsOf(row, nameWidth)} selected={shown.start + offset === selected} />
        ))}
    </Box>
  )
}
