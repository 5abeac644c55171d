/** Flag values as numbers, shared by the commands. */

/**
 * A whole number typed as text, as a number; anything else is passed on as typed, so the
 * protocol's validation names the field and says what was wrong with it.
 */
export function numeric (text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined
  return /^-?\d+$/.test(text.trim()) ? Number(text) : text
}

