/**
 * A job's running totals over its blocks (how many are done, in error, leased; frames
 * and render time; failures and activity per node), kept by adding and taking away one
 * block's share at a time. A fact about one block then costs the view that block's work,
 * however many blocks the job has: what keeps a 50,000-block job as cheap to follow as a
 * small one.
 */
import type { FailureFact } from './records.js'
import { compareStamps, latestByStamp } from './stamp.js'
import type { BlockFailure, DerivedBlock, Lease } from './view.js'

type Outcome = DerivedBlock['outcomes'][number]

/** One node's share of a job. */
export class NodeTotals {
  /** Leases it holds, by block index. */
  readonly holding = new Map<number, Lease>()
  /** Its latest outcome on each block it finished or failed. */
  readonly outcomes = new Map<number, Outcome>()
  claims = 0
  totalMs = 0
  frames = 0
  private latestCache: Outcome | null | undefined = null

  /** Its latest outcome on any block of the job. */
  latest (): Outcome | null {
    this.latestCache ??= latestByStamp(this.outcomes.values())
    return this.latestCache
  }

  setOutcome (index: number, outcome: Outcome | undefined): void {
    const previous = this.outcomes.get(index)
    if (outcome === undefined) this.outcomes.delete(index)
    else this.outcomes.set(index, outcome)
    const cached = this.latestCache
    if (cached === undefined) return
    if (previous !== undefined && cached !== null && compareStamps(previous.stamp, cached.stamp) === 0) {
      // The latest one may be gone: find it again when asked.
      this.latestCache = undefined
    } else if (outcome !== undefined && (cached === null || compareStamps(outcome.stamp, cached.stamp) > 0)) {
      this.latestCache = outcome
    }
  }

  get empty (): boolean {
    return this.claims === 0 && this.holding.size === 0 && this.outcomes.size === 0
  }
}

function latestOf (outcomes: readonly Outcome[], node: string): Outcome | undefined {
  return latestByStamp(outcomes.filter((outcome) => outcome.stamp.author === node)) ?? undefined
}

export class JobTotals {
  done = 0
  errors = 0
  leased = 0
  framesDone = 0
  totalMs = 0
  framesTimed = 0
  readonly failuresByNode = new Map<string, number>()
  /** Blocks with a fatal failure from their holder: few, and what Error Return reads. */
  readonly fatalBlocks = new Map<number, DerivedBlock>()
  readonly nodes = new Map<string, NodeTotals>()
  /** Each block's latest counting failure, for blocks that have one. */
  private readonly failedBlocks = new Map<number, { readonly stamp: FailureFact['stamp'], readonly failure: BlockFailure }>()
  private latestFailureCache: BlockFailure | null | undefined = undefined

  /** The latest counting failure on any block of the job. */
  latestFailure (): BlockFailure | null {
    this.latestFailureCache ??= latestByStamp(this.failedBlocks.values())?.failure ?? null
    return this.latestFailureCache
  }

  /** Adds a block's share (`sign` 1), or takes it away (-1) before the block is derived again. */
  apply (block: DerivedBlock, sign: 1 | -1): void {
    const { view } = block
    if (view.status === 'DONE') this.done += sign
    if (view.status === 'ERROR') this.errors += sign
    if (view.lease !== null) {
      this.leased += sign
      const holder = this.node(view.lease.holder)
      if (sign === 1) holder.holding.set(view.index, view.lease)
      else holder.holding.delete(view.index)
    }
    if (block.finish !== null) {
      this.framesDone += sign * (view.frameEnd - view.frameStart + 1)
      this.totalMs += sign * block.finish.wallMs
      this.framesTimed += sign * block.finish.frameMs.length
      const finisher = this.node(block.finish.stamp.author)
      finisher.totalMs += sign * block.finish.wallMs
      finisher.frames += sign * block.finish.frameMs.length
    }
    for (const failure of block.failures) {
      const count = (this.failuresByNode.get(failure.stamp.author) ?? 0) + sign
      if (count === 0) this.failuresByNode.delete(failure.stamp.author)
      else this.failuresByNode.set(failure.stamp.author, count)
    }
    const lastCounting = block.failures.at(-1)
    if (lastCounting !== undefined && view.lastFailure !== null) {
      if (sign === 1) this.failedBlocks.set(view.index, { stamp: lastCounting.stamp, failure: view.lastFailure })
      else this.failedBlocks.delete(view.index)
      this.latestFailureCache = undefined
    }
    if (block.latestFatal !== null) {
      if (sign === 1) this.fatalBlocks.set(view.index, block)
      else this.fatalBlocks.delete(view.index)
    }
    for (const claimant of block.claimants) this.node(claimant).claims += sign
    for (const author of new Set(block.outcomes.map((outcome) => outcome.stamp.author))) {
      this.node(author).setOutcome(view.index, sign === 1 ? latestOf(block.outcomes, author) : undefined)
    }
    if (sign === -1) for (const [id, node] of this.nodes) if (node.empty) this.nodes.delete(id)
  }

  /** The latest fatal failure from a holder, counting or not (it disables the job), and the latest counting one (its error). */
  fatal (): { readonly disabling: FailureFact | null, readonly counting: FailureFact | null } {
    const blocks = [...this.fatalBlocks.values()]
    return {
      disabling: latestByStamp(blocks.flatMap((block) => block.latestFatal ?? [])),
      counting: latestByStamp(blocks.flatMap((block) => block.failures.filter((failure) => failure.failure === 'fatal')))
    }
  }

  private node (id: string): NodeTotals {
    let node = this.nodes.get(id)
    if (node === undefined) this.nodes.set(id, node = new NodeTotals())
    return node
  }
}
