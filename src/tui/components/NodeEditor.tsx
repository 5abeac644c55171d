/** `E` on Nodes: edit a node's name, limits, classes and schedule, each field checked as typed by `cr node set`'s rules. */
import type { NodeView } from '../../protocol/view.js'
import { NODE_FIELDS, nodeChanges, nodeErrors, nodeValuesOf, type NodeValues } from '../model/node-form.js'
import { FieldForm } from './FieldForm.js'
import { useFieldForm } from './use-field-form.js'

export interface NodeEditorProps {
  readonly node: NodeView
  readonly onSave: (changes: Record<string, unknown>) => void
  readonly onCancel: () => void
  readonly onError: (error: Error) => void
}

export function NodeEditor ({ node, onSave, onCancel, onError }: NodeEditorProps): React.JSX.Element {
  const before = nodeValuesOf(node)
  const state = useFieldForm({
    fields: NODE_FIELDS,
    initial: before,
    check: (values: NodeValues) => nodeErrors(before, values),
    onCancel,
    onError,
    onSubmit: (values: NodeValues) => {
      const errors = nodeErrors(before, values)
      if (Object.keys(errors).length > 0) return errors
      const changes = nodeChanges(before, values)
      if (Object.keys(changes).length === 0) onCancel()
      else onSave(changes)
      return undefined
    }
  })
  return <FieldForm title={`Edit node ${node.name}`} fields={NODE_FIELDS} state={state} />
}
