/**
 * Checks runs of one author's stored events without their signatures: each event's bytes
 * hash to the `prev` of the next, and the newest to the feed head's sealed link. The store
 * keeps every event in the bytes its link is the sha256 of, so a run that chains up to a
 * vouched link is exactly what was written: a flipped byte or a missing event breaks it.
 */
import { sha256 } from '../../protocol/encoding.js'
import { equalBytes } from '../../protocol/feed.js'
import { decodeStored } from '../../protocol/stored-cbor.js'

/** Why a stored run is not what was written; `seq` is the event the check stopped at. */
export interface ChainBreak {
  readonly seq: number
  readonly why: string
}

interface StoredFields { readonly author?: unknown, readonly seq?: unknown, readonly prev?: unknown }

function fieldsOf (bytes: Uint8Array): StoredFields {
  try {
    // Not yet vouched for, but the chain check below proves them or refuses them.
    const decoded = decodeStored(bytes)
    return typeof decoded === 'object' && decoded !== null ? decoded : {}
  } catch {
    // Bytes that are not CBOR at all: the checks below report them by their missing fields.
    return {}
  }
}

/**
 * Takes one author's stored events in seq order from `fromSeq`, then `end` says whether
 * they chain. `fromSeq` itself is vouched for by the next event's `prev` (or, when it is
 * the last, by the link given to `end`); seq 1 must name no `prev`.
 */
export class ChainCheck {
  private expectedSeq: number
  private lastLink: Uint8Array | null = null
  private broken: ChainBreak | null = null
  /** Events taken so far. */
  count = 0

  constructor (private readonly author: string, fromSeq: number) {
    this.expectedSeq = fromSeq
  }

  /** Takes the event stored at `seq`; false once the run is broken (stop feeding it). */
  take (seq: number, bytes: Uint8Array): boolean {
    if (this.broken !== null) return false
    this.count++
    if (seq !== this.expectedSeq) return this.fail(this.expectedSeq, `missing (the next stored event is seq ${seq})`)
    const fields = fieldsOf(bytes)
    if (fields.author !== this.author || fields.seq !== seq) return this.fail(seq, 'the stored bytes are not this event')
    const prev = fields.prev
    if (this.lastLink !== null && !(prev instanceof Uint8Array && equalBytes(prev, this.lastLink))) {
      return this.fail(seq - 1, `its bytes do not hash to the prev of seq ${seq}`)
    }
    if (seq === 1 && prev !== null) return this.fail(seq, 'the first event names a prev')
    this.lastLink = sha256(bytes)
    this.expectedSeq = seq + 1
    return true
  }

  /**
   * The first break, or null when the run is whole up to `lastSeq` and, when `headLink` is
   * given, its newest event hashes to it.
   */
  end (lastSeq: number, headLink: Uint8Array | null): ChainBreak | null {
    if (this.broken !== null) return this.broken
    if (this.expectedSeq <= lastSeq) return { seq: this.expectedSeq, why: 'missing' }
    if (headLink !== null && (this.lastLink === null || !equalBytes(this.lastLink, headLink))) {
      return { seq: lastSeq, why: 'its bytes do not hash to the feed head\'s link' }
    }
    return null
  }

  private fail (seq: number, why: string): false {
    this.broken = { seq, why }
    return false
  }
}
