/** Keys for a FieldForm: typing edits the focused field and re-checks the form, arrows and tab move, enter submits, esc cancels. */
import { useInput, type Key } from 'ink'
import { useRef, useState } from 'react'
import { moveFocus, typed, type FormField, type FormState } from '../model/form.js'
import { edited, keystrokes } from './text-input.js'

export interface FieldFormControl<K extends string> {
  readonly fields: readonly FormField<K>[]
  readonly initial: Readonly<Record<K, string>>
  readonly check: (values: Readonly<Record<K, string>>) => Partial<Record<K, string>>
  /** Enter: the form's values; may hand back errors to show (focus goes to the first). */
  readonly onSubmit: (values: Readonly<Record<K, string>>) => Partial<Record<K, string>> | undefined | Promise<Partial<Record<K, string>> | undefined>
  readonly onCancel: () => void
  /** A submit that failed for a reason that is no field's. */
  readonly onError: (error: Error) => void
}

export function useFieldForm<K extends string> (control: FieldFormControl<K>): FormState<K> {
  const { fields, check } = control
  const [state, setState] = useState<FormState<K>>(() => ({ values: control.initial, focus: 0, errors: check(control.initial) }))
  // The form as the keys so far left it, rendered or not: keys can come faster than renders,
  // and an Enter right after typing must submit what was typed.
  const now = useRef(state)
  const update = (next: FormState<K>): void => {
    now.current = next
    setState(next)
  }
  const press = (input: string, key: Key): void => {
    const current = now.current
    if (key.escape) {
      control.onCancel()
      return
    }
    if (key.upArrow || key.downArrow || key.tab) {
      const step = key.upArrow || (key.tab && key.shift) ? -1 : 1
      update({ ...current, focus: moveFocus(fields.length, current.focus, step) })
      return
    }
    if (key.return) {
      Promise.resolve(control.onSubmit(current.values)).then((errors) => {
        if (errors === undefined) return
        const first = fields.findIndex((field) => errors[field.key] !== undefined)
        update({ ...now.current, errors, focus: first < 0 ? now.current.focus : first })
      }, (error: unknown) => { control.onError(error as Error) })
      return
    }
    const values = typed(fields, current, (value) => edited(value, input, key))
    update({ ...current, values, errors: check(values) })
  }
  useInput((chunk, chunkKey) => {
    for (const { input, key } of keystrokes(chunk, chunkKey)) press(input, key)
  })
  return state
}
