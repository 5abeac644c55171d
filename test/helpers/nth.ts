/** The item at `index`, or a clear failure: for tests that index arrays they just built. */
export function nth<T> (items: readonly T[], index: number): T {
  const item = items.at(index)
  if (item === undefined) throw new RangeError(`no item at ${index} of ${items.length}`)
  return item
}
