/** The top two lines of every screen: the farm, peers, sync state and identity; then the tabs. */
import { Box, Text } from 'ink'
import { headerOf } from '../model/header.js'
import type { FarmSnapshot } from '../model/snapshot.js'
import { SCREENS, type Screen } from '../screens.js'
import { StatusText } from './StatusText.js'

export interface HeaderProps {
  readonly snapshot: FarmSnapshot
  readonly screen: Screen
}

export function Header ({ snapshot, screen }: HeaderProps): React.JSX.Element {
  const header = headerOf(snapshot)
  const synced = snapshot.mesh.sync.phase === 'live' && header.sync === 'caught up'
  return (
    <Box flexDirection='column'>
      <Text wrap='truncate'>
        <Text bold>Constellation Render</Text>
        {`  farm ${header.farm}  ${header.peers}  `}
        <StatusText status={synced ? 'ok' : 'warn'}>{header.sync}</StatusText>
        {`  me ${header.identity}`}
      </Text>
      <Text wrap='truncate'>
        {SCREENS.map(({ id, key, title }) => (
          <Text key={id} inverse={id === screen}>{` ${key} ${title} `}</Text>
        ))}
        <Text dimColor>{'  ? keys  q quit'}</Text>
      </Text>
    </Box>
  )
}
