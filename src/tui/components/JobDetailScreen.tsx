/** One job: its fields in brief, the block grid, its failures with the renderer's output, its log records, where its frames are. */
import { Box, Text } from 'ink'
import type { JobDetail } from '../model/job-detail.js'
import { printable } from '../../cli/format.js'
import { windowOf } from '../model/window.js'
import { Row } from './Row.js'
import { StatusText } from './StatusText.js'

export interface JobDetailScreenProps {
  readonly detail: JobDetail | null
  readonly selectedBlock: number
  readonly height: number
  readonly width: number
}

const BLOCK_COLUMNS = [['BLOCK', 5], ['FRAMES', 11], ['STATUS', 9], ['HOLDER', 18], ['EPOCH', 5], ['TRIES', 5], ['TIME', 16]] as const
/** Lines kept for failures and log records under the grid, when the terminal has them. */
const TAIL_LINES = 8

export function JobDetailScreen ({ detail, selectedBlock, height, width }: JobDetailScreenProps): React.JSX.Element {
  if (detail === null) return <Text dimColor>No job selected: pick one on the Jobs screen (1) and press Enter.</Text>
  const { job } = detail
  const tail = Math.min(TAIL_LINES, Math.max(0, height - 8))
  const shown = windowOf(detail.blocks.length, selectedBlock, height - 4 - tail)
  const failureLines = detail.failures.flatMap((failure) => [
    { key: `f${failure.block}`, text: `block ${failure.block} on ${failure.node}: ${failure.kind}: ${failure.message}`, severity: 'error' },
    ...failure.outputTail.slice(-3).map((line, index) => ({ key: `f${failure.block}-${index}`, text: `    | ${line}`, severity: 'info' }))
  ])
  const logLines = detail.logs.slice(-tail).map(({ entry, severity }) => ({ key: entry.id, text: entry.description, severity }))
  // Failures first (they are what a wrangler opens the job for), the newest log records in what is left.
  const failuresShown = failureLines.slice(0, Math.max(0, tail - 2))
  const below = [...failuresShown, ...logLines.slice(logLines.length - (tail - failuresShown.length))]
  return (
    <Box flexDirection='column'>
      <Text wrap='truncate'>
        <Text bold>{printable(job.name)}</Text>
        {` ${job.shortId}  `}
        <StatusText status={job.status}>{job.status}</StatusText>
        {printable(`${job.enabled ? '' : ' DISABLED'}  ${job.project}/${job.user}  ${job.software}  pri ${job.priority} class ${job.classification}  ${job.framesDone}/${job.framesTotal} frames`)}
      </Text>
      <Text wrap='truncate' dimColor>{printable(`frames to ${detail.frames}  scene ${job.scenePath}`)}</Text>
      {job.error === null ? null : <StatusText status='error'>{`error: ${job.error}`}</StatusText>}
      <Row cells={BLOCK_COLUMNS.map(([title, cell]) => ({ text: title, width: cell }))} bold />
      {detail.blocks.slice(shown.start, shown.end).map((block, offset) => (
        <Row
          key={block.index}
          selected={shown.start + offset === selectedBlock}
          cells={[
            { text: String(block.index), width: 5 }, { text: block.frames, width: 11 }, { text: block.status, width: 9, status: block.status },
            { text: block.holder, width: 18 }, { text: String(block.epoch), width: 5 }, { text: String(block.attempts), width: 5 },
            { text: block.time, width: Math.max(8, width - 60) }
          ]}
        />
      ))}
      {below.length === 0 ? null : <Text bold>{detail.failures.length > 0 ? 'failures and log' : 'log'}</Text>}
      {below.map((line) => <StatusText key={line.key} status={line.severity}>{line.text}</StatusText>)}
    </Box>
  )
}
