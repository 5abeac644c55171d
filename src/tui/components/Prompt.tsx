/** A one-line question at the bottom: a filter, a priority, or a yes/no for something destructive. */
import { Text } from 'ink'

export function Prompt ({ question, value }: { readonly question: string, readonly value: string }): React.JSX.Element {
  return (
    <Text wrap='truncate'>
      <Text bold>{question}</Text>
      {` ${value}`}
      <Text inverse> </Text>
    </Text>
  )
}
