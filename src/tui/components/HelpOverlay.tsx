/** `?`: every key that works on this screen, in two columns to fit 80x24, and where the mesh's log goes while the TUI owns the terminal. */
import { Box, Text } from 'ink'
import { bindingsOn, type Binding } from '../keys.js'
import type { Screen } from '../screens.js'

function KeyColumn ({ bindings }: { readonly bindings: readonly Binding[] }): React.JSX.Element {
  return (
    <Box flexDirection='column' width='50%'>
      {bindings.map((binding) => (
        <Text key={binding.command} wrap='truncate'>{`${(binding.label ?? binding.keys.join('/')).padEnd(8)} ${binding.help}`}</Text>
      ))}
    </Box>
  )
}

export function HelpOverlay ({ screen, logFile }: { readonly screen: Screen, readonly logFile: string }): React.JSX.Element {
  const bindings = bindingsOn(screen)
  const half = Math.ceil(bindings.length / 2)
  return (
    <Box flexDirection='column' borderStyle='single' paddingX={1}>
      <Text bold>Keys on this screen (any key closes)</Text>
      <Box>
        <KeyColumn bindings={bindings.slice(0, half)} />
        <KeyColumn bindings={bindings.slice(half)} />
      </Box>
      <Text dimColor wrap='truncate'>{`mesh and node messages go to ${logFile}`}</Text>
    </Box>
  )
}
