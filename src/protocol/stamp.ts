/**
 * Stamps order facts from different authors the same way on every peer: by Lamport
 * clock, then author, then seq: the latest counting fact wins (view.ts).
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

/** The fact with the latest stamp among `facts`, or null when there are none. */
export function latestByStamp<T extends { readonly stamp: Stamp }> (facts: Iterable<T>): T | null {
  let latest: T | null = null
  for (const fact of facts) if (latest === null || compareStamps(fact.stamp, latest.stamp) > 0) latest = fact
  return latest
}
