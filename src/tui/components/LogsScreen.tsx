/** The log report, filtered, following new records at the bottom unless scrolled back. */
import { Box, Text } from 'ink'
import type { LogLine } from '../model/logs.js'
import { StatusText } from './StatusText.js'

export interface LogsScreenProps {
  readonly lines: readonly LogLine[]
  /** Lines scrolled back from the newest; 0 follows. */
  readonly back: number
  readonly height: number
  readonly filter: string
}

export function LogsScreen ({ lines, back, height, filter }: LogsScreenProps): React.JSX.Element {
  // Output lines count against the height too: take records from the end until it is full.
  const rows: { key: string, text: string, severity: string }[] = []
  const end = Math.max(0, lines.length - back)
  for (let index = end - 1; index >= 0 && rows.length < height - 1; index--) {
    const line = lines[index]
    if (line === undefined) break
    const output = line.outputTail.slice(-2).map((text, offset) => ({ key: `${line.id}-${offset}`, text: `    | ${text}`, severity: 'info' }))
    rows.unshift({ key: line.id, text: line.text, severity: line.severity }, ...output)
  }
  const shown = rows.slice(-(height - 1))
  return (
    <Box flexDirection='column'>
      <Text bold wrap='truncate'>{`${filter}  ${back === 0 ? 'following' : `${back} back (End to follow)`}  ${lines.length} records`}</Text>
      {lines.length === 0 ? <Text dimColor>No log records match.</Text> : null}
      {shown.map((row) => <StatusText key={row.key} status={row.severity}>{row.text}</StatusText>)}
    </Box>
  )
}
