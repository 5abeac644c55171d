/** A form of text fields, each with its error under it as it is typed: the submit form and the node editor. */
import { Box, Text } from 'ink'
import type { FormField, FormState } from '../model/form.js'
import { StatusText } from './StatusText.js'

export interface FieldFormProps<K extends string> {
  readonly title: string
  readonly fields: readonly FormField<K>[]
  readonly state: FormState<K>
}

export function FieldForm<K extends string> ({ title, fields, state }: FieldFormProps<K>): React.JSX.Element {
  return (
    <Box flexDirection='column' borderStyle='single' paddingX={1}>
      <Text bold>{`${title}  (up/down or tab: field, enter: submit, esc: cancel)`}</Text>
      {fields.map((field, index) => {
        const focused = index === state.focus
        const error = state.errors[field.key]
        return (
          <Text key={field.key} wrap='truncate'>
            <Text bold={focused}>{`${focused ? '>' : ' '} ${field.label.padEnd(14)}`}</Text>
            {state.values[field.key]}
            {focused ? <Text inverse> </Text> : null}
            {error === undefined ? <Text dimColor>{`  ${focused ? field.hint : ''}`}</Text> : <StatusText status='error'>{`  ${field.key}: ${error}`}</StatusText>}
          </Text>
        )
      })}
    </Box>
  )
}
