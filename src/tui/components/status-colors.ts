/**
 * One colour per status, the same on every screen. NO_COLOR (set and not empty, as
 * no-color.org has it) turns them all off: Ink's chalk does not read it, so this does.
 */
type Color = 'green' | 'yellow' | 'red' | 'cyan' | 'blue' | 'gray' | 'magenta'

const COLORS: Readonly<Record<string, Color>> = {
  RENDERING: 'green',
  CLAIMED: 'green',
  QUEUE: 'blue',
  STANDBY: 'blue',
  HALT: 'yellow',
  DISABLED: 'gray',
  OFFLINE: 'gray',
  DONE: 'cyan',
  ERROR: 'red',
  LOST: 'magenta',
  ok: 'green',
  warn: 'yellow',
  error: 'red'
}

const colored = (process.env.NO_COLOR ?? '') === ''

export function colorOf (status: string): Color | undefined {
  return colored ? COLORS[status] : undefined
}
