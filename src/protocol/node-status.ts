/**
 * A node's status in the client table with its reason, as people need it: ERROR says
 * which block failed and why, STANDBY says what keeps an idle node from work (who blocked
 * it, until when its no-render window lasts). Liveness and the local time are not in the
 * log, so the caller passes them in; the rest comes from the node's view. Pure.
 */
import { noRenderUntil, type LocalTime } from './schedule.js'
import { clientStatus, type NodeView } from './view.js'
import type { ClientStatus } from './vocabulary.js'

export interface NodeStatus {
  readonly status: ClientStatus
  /** Why, in words; null when the status says it all (RENDERING, an idle STANDBY, OFFLINE). */
  readonly reason: string | null
}

export interface NodeStatusContext {
  readonly live: boolean
  /** The local time the node's schedule is read in. */
  readonly at: LocalTime
  /** A peer's name, for who blocked a node. */
  readonly nameOf: (peer: string) => string
}

export function nodeStatus (node: NodeView, context: NodeStatusContext): NodeStatus {
  const status = clientStatus(node, context.live)
  if (status === 'OFFLINE' || status === 'RENDERING') return { status, reason: null }
  const reasons: string[] = []
  const failed = node.lastFailure
  if (failed !== null) reasons.push(`last block failed: job ${failed.jobId.replaceAll('-', '').slice(0, 8)} block ${failed.block}: ${failed.message}`)
  if (node.blocked) reasons.push(node.blockedBy === null ? 'blocked' : `blocked by ${context.nameOf(node.blockedBy)}`)
  const until = noRenderUntil(node.schedule, context.at)
  if (until !== null) reasons.push(`no-render window until ${until}`)
  return { status, reason: reasons.length === 0 ? null : reasons.join('; ') }
}
