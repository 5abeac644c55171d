/** A form of text fields, as the submit and node-edit forms share it: what is typed, which field has focus, what is wrong. */

export interface FormField<K extends string = string> {
  readonly key: K
  readonly label: string
  /** What the field means or takes, shown beside it. */
  readonly hint: string
}

export interface FormState<K extends string = string> {
  readonly values: Readonly<Record<K, string>>
  readonly focus: number
  /** Each field's error as of the last keystroke; a field without one is fine so far. */
  readonly errors: Readonly<Partial<Record<K, string>>>
}

/** The focused field's value with `edit` applied. */
export function typed<K extends string> (fields: readonly FormField<K>[], state: FormState<K>, edit: (value: string) => string): Record<K, string> {
  const field = fields[state.focus]
  if (field === undefined) return { ...state.values }
  return { ...state.values, [field.key]: edit(state.values[field.key]) }
}

/** Focus moved by `step` fields, wrapping around. */
export function moveFocus (count: number, focus: number, step: number): number {
  return (focus + step + count) % count
}
