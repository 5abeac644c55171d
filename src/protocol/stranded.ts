/**
 * Why a job is ERROR, in words, and the one ERROR that needs the client table: a queued
 * job that no node can run any more. A node stops taking a job it failed
 * FAILURES_BEFORE_AVOIDING_JOB times (scheduling.ts), and takes no job of software it
 * does not run, so once every node that could run a job is in one of those cases the job
 * would wait forever; it is ERROR instead, with the last failure as its reason, until a
 * retry (which counts failures afresh) or a node that can run it.
 *
 * "Every node" is every node in the client table, live or not: liveness is not in the
 * log, and every peer must derive the same status. A node gone for good is taken out of
 * the table with `cr node remove`. Pure and deterministic.
 */
import { FAILURES_BEFORE_AVOIDING_JOB } from './scheduling.js'
import type { BlockFailure, JobView, NodeView } from './view.js'

/** The client table as a job's status needs it: who could run what, and names for reasons. */
export class NodeTable {
  private readonly names: ReadonlyMap<string, string>
  private readonly able = new Map<string, readonly NodeView[]>()

  constructor (private readonly nodes: readonly NodeView[]) {
    this.names = new Map(nodes.map((node) => [node.id, node.name]))
  }

  /** A peer's name in the table, or the tail of its id the table shows for nodes never named. */
  nameOf (peer: string): string {
    return this.names.get(peer) ?? peer.slice(-8)
  }

  /** Nodes that run the job's software and take its class (blocked or not: a block is lifted). */
  ableToRun (job: JobView): readonly NodeView[] {
    const key = `${job.software}/${job.classification}`
    let able = this.able.get(key)
    if (able === undefined) {
      able = this.nodes.filter((node) => node.software.includes(job.software) && node.classifications.includes(job.classification))
      this.able.set(key, able)
    }
    return able
  }

  runsSoftware (job: JobView): boolean {
    return this.nodes.some((node) => node.software.includes(job.software))
  }

  get empty (): boolean {
    return this.nodes.length === 0
  }
}

/** The job with its status and reason completed from the client table: itself when nothing changes. */
export function explainJob (job: JobView, table: NodeTable): JobView {
  if (job.status === 'ERROR' && job.error === null) return { ...job, error: outOfRetries(job, table) }
  if (job.status !== 'QUEUE' || !job.enabled) return job
  const reason = strandedReason(job, table)
  return reason === null ? job : { ...job, status: 'ERROR', error: reason }
}

/** Why a queued job can run nowhere, or null while some node may still take it. */
function strandedReason (job: JobView, table: NodeTable): string | null {
  // A farm whose nodes have not joined yet is not a farm that cannot run the job.
  if (table.empty) return null
  const last = job.lastFailure === null ? '' : `: last failure ${failureText(job.lastFailure, table)}`
  const able = table.ableToRun(job)
  if (able.length === 0) {
    if (!table.runsSoftware(job)) return `no node can run ${job.software} (none lists it in its [render] software, or it is not installed)${last}`
    // Class routing is the wrangler's choice: a job of a class nobody takes waits, unless it failed already.
    return job.lastFailure === null ? null : `no node that runs ${job.software} takes class ${job.classification}${last}`
  }
  const exhausted = able.every((node) => (job.failuresByNode[node.id] ?? 0) >= FAILURES_BEFORE_AVOIDING_JOB)
  if (!exhausted || job.lastFailure === null) return null
  return `every node that can run it failed it ${FAILURES_BEFORE_AVOIDING_JOB} times (cr job retry runs it again)${last}`
}

/** A block out of retries: which one, and its last failure. */
function outOfRetries (job: JobView, table: NodeTable): string {
  const last = job.lastFailure
  // The latest failure is almost always the one that used up the retries: no search then.
  const block = (last === null ? undefined : job.blocks[last.block]?.status === 'ERROR' ? job.blocks[last.block] : undefined) ??
    job.blocks.find((candidate) => candidate.status === 'ERROR')
  if (block === undefined) return 'a block failed more often than its retries allow'
  const failure = block.lastFailure === null ? '' : `: last failure ${failureText(block.lastFailure, table)}`
  return `block ${block.index} failed ${block.attempts} times, more than its ${job.maxRetries} retries${failure}`
}

function failureText (failure: BlockFailure, table: NodeTable): string {
  return `on ${table.nameOf(failure.node)} (block ${failure.block}): ${failure.message}`
}
