/** The bottom line: what the last action did, or the field-named error it met. */
import { Text } from 'ink'
import { StatusText } from './StatusText.js'

export type Status =
  | { readonly kind: 'idle' }
  | { readonly kind: 'busy', readonly text: string }
  | { readonly kind: 'done', readonly text: string }
  | { readonly kind: 'failed', readonly text: string }

export function StatusLine ({ status }: { readonly status: Status }): React.JSX.Element {
  switch (status.kind) {
    case 'idle':
      return <Text dimColor>ready</Text>
    case 'busy':
      return <StatusText status='warn'>{`${status.text}...`}</StatusText>
    case 'done':
      return <StatusText status='ok'>{status.text}</StatusText>
    case 'failed':
      return <StatusText status='error'>{status.text}</StatusText>
  }
}
