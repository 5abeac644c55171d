/**
 * A replica of the log in memory: the head of every author's feed, the records those
 * events reduce to, and the highest Lamport clock seen. Stores (LevelDB on disk, memory in
 * the simulator) keep the events themselves and wrap a Replica for the rest, so both
 * decide and apply exactly alike.
 */
import { decodeEvent, validateBody } from './encoding.js'
import type { EventBody, VerifiedEvent } from './events.js'
import { draftNext, headOf, judgeHeld, place, type FeedHead } from './feed.js'
import { applyEvent, emptyRecords, type FarmRecords, type Touched } from './records.js'
import { signEvent, verifyEvent, type Signer } from './signing.js'
import { stateHash } from './state-hash.js'
import type { VersionVector } from './version-vector.js'
import { deriveView, type FarmView } from './view.js'

/** Where an admitted remote event stands. Refusals are thrown (see errors.ts). */
export type Admission =
  /** Verified and next in its feed: commit it. */
  | { readonly kind: 'next', readonly verified: VerifiedEvent }
  /** Events of its feed are missing before it: pull from `have + 1`. */
  | { readonly kind: 'gap', readonly author: string, readonly have: number, readonly got: number }

export interface ReplicaSnapshot {
  readonly heads: ReadonlyMap<string, FeedHead>
  readonly records: FarmRecords
}

/** Looks up the hash of an event the store holds, for telling a replay from a fork. */
export type HeldHashLookup = (author: string, seq: number) => Promise<Uint8Array>

export class Replica {
  private readonly heads: Map<string, FeedHead>
  readonly records: FarmRecords
  private highestLamport: number
  private cachedView: FarmView | null = null
  private cachedHash: string | null = null

  constructor (snapshot?: ReplicaSnapshot) {
    this.heads = new Map(snapshot?.heads ?? [])
    this.records = snapshot?.records ?? emptyRecords()
    this.highestLamport = Math.max(0, ...[...this.heads.values()].map((head) => head.lamport))
  }

  head (author: string): FeedHead | undefined {
    return this.heads.get(author)
  }

  versionVector (): VersionVector {
    return Object.fromEntries([...this.heads].map(([author, head]) => [author, head.seq]))
  }

  /**
   * Decodes, verifies and places untrusted bytes. Returns the verified event ready to
   * commit, or the gap before it; throws the typed refusal otherwise.
   */
  async admit (bytes: Uint8Array, heldHash: HeldHashLookup): Promise<Admission> {
    const verified = verifyEvent(decodeEvent(bytes))
    const { author, seq } = verified.event
    const placement = place(this.heads.get(author), verified)
    switch (placement.kind) {
      case 'next':
        return { kind: 'next', verified }
      case 'gap':
        return { kind: 'gap', author, have: placement.have, got: seq }
      case 'held':
        return judgeHeld(await heldHash(author, seq), verified)
    }
  }

  /** Signs the writer's next event with this replica's clocks; commit it to keep it. */
  draft (signer: Signer, wallTime: number, body: EventBody): VerifiedEvent {
    const valid = validateBody(body)
    const unsigned = draftNext(signer.author, this.heads.get(signer.author), this.highestLamport, wallTime, valid)
    return signEvent(unsigned, signer)
  }

  /** Applies an admitted (or drafted) event: advances its feed and reduces it into the records. */
  commit (verified: VerifiedEvent): Touched {
    const { author, lamport } = verified.event
    this.heads.set(author, headOf(verified))
    this.highestLamport = Math.max(this.highestLamport, lamport)
    this.cachedView = null
    this.cachedHash = null
    return applyEvent(this.records, verified)
  }

  view (): FarmView {
    return this.cachedView ??= deriveView(this.records)
  }

  stateHash (): string {
    return this.cachedHash ??= stateHash(this.records)
  }
}
