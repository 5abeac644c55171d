/** One line of a table: cells cut to their widths, the status cell coloured, the selected line inverted. */
import { Text } from 'ink'
import { memo } from 'react'
import { fit } from '../model/text.js'
import { StatusText } from './StatusText.js'

export interface Cell {
  readonly text: string
  readonly width: number
  /** Colour the cell by this status word. */
  readonly status?: string
}

export interface RowProps {
  readonly cells: readonly Cell[]
  readonly selected?: boolean
  readonly bold?: boolean
}

function RowLine ({ cells, selected = false, bold = false }: RowProps): React.JSX.Element {
  return (
    <Text inverse={selected} bold={bold} wrap='truncate'>
      {cells.map((cell, index) => {
        const text = fit(cell.text, cell.width) + (index === cells.length - 1 ? '' : ' ')
        return cell.status === undefined ? text : <StatusText key={index} status={cell.status}>{text}</StatusText>
      })}
    </Text>
  )
}

export const Row = memo(RowLine, (before, after) =>
  before.selected === after.selected && before.bold === after.bold && before.cells.length === after.cells.length &&
  before.cells.every((cell, index) => {
    const other = after.cells[index]
    return other !== undefined && cell.text === other.text && cell.width === other.width && cell.status === other.status
  }))
