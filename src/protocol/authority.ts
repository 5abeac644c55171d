/**
 * Who may state what. Every fact is kept with its author (records.ts); these rules decide
 * which ones count, from the facts alone, so every peer decides alike whatever order the
 * facts arrived in:
 *
 * - The farm's founder (named in the swarm key file, `cr key generate`) is a wrangler
 *   for good. Wranglers are granted and revoked by `role.changed` facts, which count only
 *   from a peer that was the founder or a wrangler at the fact's stamp. Facts are taken in
 *   stamp order, so a revocation ends a wrangler's authority from then on, never before:
 *   what a wrangler did while a wrangler stands.
 * - A job is steered (edited, retried, deleted) by its submitter or a wrangler.
 * - A node's settings come from the node itself or a wrangler; what software it accepts
 *   comes from the node alone (its own config is the only word on what it runs).
 * - Block facts come from the lease holder at their epoch (see view.ts).
 */
import type { RoleFact } from './records.js'
import { compareStamps, type Stamp } from './stamp.js'

/** What the farm's founding identity is; null for a farm made before roles (no wranglers then). */
export interface FarmAuthority {
  readonly founder: string | null
}

/** A stretch of stamps during which a peer was a wrangler: from its grant, until its revocation. */
interface Tenure {
  readonly from: Stamp
  readonly until: Stamp | null
}

/** Who was a wrangler when, as the role facts say. */
export class Roles {
  private readonly tenures = new Map<string, Tenure[]>()

  constructor (readonly founder: string | null, facts: Iterable<RoleFact>) {
    const open = new Map<string, Stamp>()
    for (const fact of [...facts].sort((a, b) => compareStamps(a.stamp, b.stamp))) {
      // One role so far: every fact is about wranglers.
      if (fact.peer === founder) continue
      if (!this.wasWrangler(fact.stamp.author, fact.stamp, open)) continue
      const since = open.get(fact.peer)
      if (fact.granted && since === undefined) open.set(fact.peer, fact.stamp)
      if (!fact.granted && since !== undefined) {
        this.close(fact.peer, since, fact.stamp)
        open.delete(fact.peer)
      }
    }
    for (const [peer, since] of open) this.close(peer, since, null)
  }

  /** Whether `peer` may steer anything at `stamp`: the founder, or a wrangler then. */
  isWranglerAt (peer: string, stamp: Stamp): boolean {
    return this.wasWrangler(peer, stamp, new Map())
  }

  /** Wranglers now (the founder first), for people and reports. */
  current (): string[] {
    const now = [...this.tenures].filter(([, tenures]) => tenures.some((tenure) => tenure.until === null)).map(([peer]) => peer).sort()
    return this.founder === null ? now : [this.founder, ...now]
  }

  private wasWrangler (peer: string, stamp: Stamp, open: ReadonlyMap<string, Stamp>): boolean {
    if (peer === this.founder) return true
    const since = open.get(peer)
    if (since !== undefined && compareStamps(since, stamp) < 0) return true
    return (this.tenures.get(peer) ?? []).some((tenure) => compareStamps(tenure.from, stamp) < 0 && (tenure.until === null || compareStamps(stamp, tenure.until) < 0))
  }

  private close (peer: string, from: Stamp, until: Stamp | null): void {
    let list = this.tenures.get(peer)
    if (list === undefined) this.tenures.set(peer, list = [])
    list.push({ from, until })
  }
}
