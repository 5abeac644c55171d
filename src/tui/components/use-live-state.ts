/**
 * State that key handlers read as the keys before them left it. Keys typed faster than the
 * app draws arrive together and are handled before React renders again, so a handler that
 * read the rendered state would act on the row or screen of an earlier frame (a halt
 * landing on the job the filter just hid). The ref is the state as of the last key; the
 * value is what the frame shows.
 */
import { useRef, useState } from 'react'

export interface LiveState<T> {
  /** As of the last render: what the screen shows. */
  readonly shown: T
  /** As of the last key: what the next key acts on. */
  readonly now: () => T
  readonly set: (to: T | ((current: T) => T)) => void
}

export function useLiveState<T> (initial: T): LiveState<T> {
  const [shown, setShown] = useState(initial)
  const latest = useRef(initial)
  const set = (to: T | ((current: T) => T)): void => {
    latest.current = typeof to === 'function' ? (to as (current: T) => T)(latest.current) : to
    setShown(latest.current)
  }
  return { shown, now: () => latest.current, set }
}
