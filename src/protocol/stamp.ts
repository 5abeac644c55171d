/**
 * Stamps order facts from different authors the same way on every peer: by Lamport
 * clock, then author, then seq. Last-writer-wins registers keep the greatest stamp.
 */
import type { VerifiedEvent } from './events.js'

export interface Stamp {
  readonly lamport: number
  readonly author: string
  readonly seq: number
}

export function stampOf ({ event }: VerifiedEvent): Stamp {
  return { lamport: event.lamport, author: event.author, seq: event.seq }
}

export function compareStamps (a: Stamp, b: Stamp): number {
  if (a.lamport !== b.lamport) return a.lamport - b.lamport
  if (a.author !== b.author) return a.author < b.author ? -1 : 1
  return a.seq - b.seq
}

/** A stable key for one fact: authors never reuse a seq. */
export function stampKey (stamp: Stamp): string {
  return `${stamp.author}#${stamp.seq}`
}

/** A last-writer-wins register: a value and the stamp of the write that set it. */
export interface Register<T> {
  readonly value: T
  readonly stamp: Stamp
}

/** The register after a write: whichever of the two carries the later stamp. */
export function writeRegister<T> (current: Register<T> | null, value: T, stamp: Stamp): Register<T> {
  if (current !== null && compareStamps(current.stamp, stamp) >= 0) return current
  return { value, stamp }
}

/** The earlier of two optional stamps (first submission, first deletion). */
export function earliest (current: Stamp | null, stamp: Stamp): Stamp {
  return current === null || compareStamps(stamp, current) < 0 ? stamp : current
}

/** The later of two optional stamps (latest retry). */
export function latest (current: Stamp | null, stamp: Stamp): Stamp {
  return current === null || compareStamps(stamp, current) > 0 ? stamp : current
}
