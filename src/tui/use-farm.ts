/**
 * The farm snapshot as React state, throttled: a burst of events (a node finishing a
 * block writes three) makes one render, and the first change after a quiet spell renders
 * at once, so an event shows well within the 200 ms the screens promise. A slow tick
 * keeps ages and elapsed times moving while nothing happens.
 */
import { useEffect, useState } from 'react'
import type { FarmSource } from './farm-source.js'
import type { FarmSnapshot } from './model/snapshot.js'

/** At most one render per this long while events stream in. */
export const RENDER_THROTTLE_MS = 50
/** How often times on screen (ages, elapsed) move on without any event. */
const CLOCK_TICK_MS = 1_000

export interface FarmState {
  readonly snapshot: FarmSnapshot
  /** The time the screens are drawn for. */
  readonly nowMs: number
}

export function useFarm (source: FarmSource, now: () => number = Date.now): FarmState {
  const [state, setState] = useState<FarmState>(() => ({ snapshot: source.snapshot(), nowMs: now() }))
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined
    let lastMs = 0
    const flush = (): void => {
      timer = undefined
      lastMs = now()
      setState({ snapshot: source.snapshot(), nowMs: lastMs })
    }
    const changed = (): void => {
      if (timer !== undefined) return
      timer = setTimeout(flush, Math.max(0, lastMs + RENDER_THROTTLE_MS - now()))
    }
    const unsubscribe = source.subscribe(changed)
    const clock = setInterval(changed, CLOCK_TICK_MS)
    // Anything that changed between the first snapshot and subscribing.
    changed()
    return () => {
      unsubscribe()
      clearInterval(clock)
      clearTimeout(timer)
    }
  }, [source, now])
  return state
}
