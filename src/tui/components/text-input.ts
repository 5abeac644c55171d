/** Typing into a one-line field, as every prompt and form field does it. */
import type { Key } from 'ink'

/** A field's value after a key: typed characters added, backspace taking one off, control keys ignored. */
export function edited (value: string, input: string, key: Key): string {
  if (key.backspace || key.delete) return value.slice(0, -1)
  if (key.ctrl || key.meta || key.return || key.escape || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return value
  // Control characters a chunk may carry never belong in a field.
  return value + input.replace(/\p{Cc}/gu, '')
}

export interface Keystroke {
  readonly input: string
  readonly key: Key
}

const NO_KEY: Key = {
  upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
  return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
  super: false, hyper: false, capsLock: false, numLock: false
}

/**
 * The keys in one read of the terminal. Keys typed (or sent) faster than the app reads
 * arrive together, `ab\tc\r`, and each must count as the key it is; an escape sequence
 * (an arrow) is one key however long.
 */
export function keystrokes (input: string, key: Key): Keystroke[] {
  if (input.length <= 1 || input.startsWith('\u001B')) return [{ input, key }]
  return Array.from(input, (character) => ({
    input: character,
    key: { ...NO_KEY, tab: character === '\t', return: character === '\r' || character === '\n', backspace: character === '\u007F' || character === '\b' }
  }))
}
