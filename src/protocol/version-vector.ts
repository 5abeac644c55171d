/**
 * Version vectors: for each author, the highest seq a peer holds without a gap. Because
 * feeds are chains, this one number per author says exactly what a peer has, and catch-up
 * is exact: "send me author X from seq k".
 */

export type VersionVector = Readonly<Record<string, number>>

/** A run of one author's feed, inclusive at both ends. */
export interface FeedRange {
  readonly author: string
  readonly fromSeq: number
  readonly toSeq: number
}

/** What `have` lacks that `theirs` holds, one range per author, sorted by author. */
export function missingFrom (have: VersionVector, theirs: VersionVector): FeedRange[] {
  const ranges: FeedRange[] = []
  for (const author of Object.keys(theirs).sort()) {
    const theirSeq = theirs[author] ?? 0
    const haveSeq = have[author] ?? 0
    if (theirSeq > haveSeq) ranges.push({ author, fromSeq: haveSeq + 1, toSeq: theirSeq })
  }
  return ranges
}

/** True when `have` holds everything `other` holds. */
export function covers (have: VersionVector, other: VersionVector): boolean {
  return missingFrom(have, other).length === 0
}

/** Total number of events a vector accounts for. */
export function eventCount (vector: VersionVector): number {
  return Object.values(vector).reduce((sum, seq) => sum + seq, 0)
}
