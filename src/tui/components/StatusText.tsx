/** Text from the farm in its status's colour (plain for a status without one), control characters written out. */
import { Text } from 'ink'
import { printable } from '../../cli/format.js'
import { colorOf } from './status-colors.js'

export function StatusText ({ status, children }: { readonly status: string, readonly children: string }): React.JSX.Element {
  const color = colorOf(status)
  const text = printable(children)
  return color === undefined ? <Text wrap='truncate'>{text}</Text> : <Text color={color} wrap='truncate'>{text}</Text>
}
