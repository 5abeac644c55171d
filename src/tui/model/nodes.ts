/**
 * The Nodes screen's rows: the client table joined with liveness and heartbeats, so a
 * node's current block shows its live progress and a node that went quiet shows OFFLINE.
 */
import { duration, limit } from '../../cli/format.js'
import { scheduleVerdict, type LocalTime } from '../../protocol/schedule.js'
import { clientStatus, type FarmView, type NodeView } from '../../protocol/view.js'
import { CLASSIFICATIONS, type ClientStatus } from '../../protocol/vocabulary.js'
import type { FarmSnapshot } from './snapshot.js'
import { ago } from './text.js'

export interface NodeRow {
  readonly node: NodeView
  readonly id: string
  readonly name: string
  readonly status: ClientStatus
  /** `a1b2c3d4 #3 47%`: the job's short id, block and the renderer's progress, or `-`. */
  readonly current: string
  readonly classes: string
  readonly threads: string
  readonly memory: string
  /** Which limits apply now: `work hours`, `off hours` or `no render` (its schedule, by our clock). */
  readonly limitsNow: string
  readonly blocked: boolean
  readonly lastSeen: string
  readonly averageFrame: string
  readonly frames: number
}

function currentOf (node: NodeView, view: FarmView, snapshot: Pick<FarmSnapshot, 'heartbeats'>): string {
  const [held] = node.holding
  if (held === undefined) return '-'
  const job = view.jobs.find((candidate) => candidate.id === held.jobId)
  const beat = snapshot.heartbeats.get(node.id)
  const sameBlock = beat?.lease !== null && beat?.lease !== undefined && beat.lease.jobId === held.jobId && beat.lease.block === held.block
  const progress = sameBlock && beat.progressPct !== null ? ` ${Math.round(beat.progressPct)}%` : ''
  return `${job?.shortId ?? held.jobId.slice(0, 8)} #${held.block}${progress}`
}

function limitsNowOf (node: NodeView, at: LocalTime): { threads: string, memory: string, label: string } {
  const verdict = scheduleVerdict(node.schedule, at)
  if (!verdict.mayRender) return { threads: limit(node.threadLimit), memory: limit(node.memoryLimitMb, ' MB'), label: 'no render' }
  if (verdict.workHours) return { threads: limit(node.workThreadLimit), memory: limit(node.workMemoryLimitMb, ' MB'), label: 'work hours' }
  return { threads: limit(node.threadLimit), memory: limit(node.memoryLimitMb, ' MB'), label: node.schedule.length === 0 ? 'always' : 'off hours' }
}

export function nodeRows (snapshot: Pick<FarmSnapshot, 'view' | 'heartbeats' | 'live' | 'goneHolders'>, nowMs: number, at: LocalTime): NodeRow[] {
  const { view } = snapshot
  return view.nodes.map((node) => {
    const live = snapshot.live.has(node.id) && !snapshot.goneHolders.has(node.id)
    const beat = snapshot.heartbeats.get(node.id)
    const limits = limitsNowOf(node, at)
    return {
      node,
      id: node.id,
      name: node.name,
      status: clientStatus(node, live),
      current: currentOf(node, view, snapshot),
      classes: node.classifications.length === CLASSIFICATIONS.length ? 'all' : node.classifications.join(''),
      threads: limits.threads,
      memory: limits.memory,
      limitsNow: limits.label,
      blocked: node.blocked,
      lastSeen: beat === undefined ? (live ? 'connected' : 'never') : ago(beat.receivedAtMs, nowMs),
      averageFrame: duration(node.renderTime.averageFrameMs),
      frames: node.renderTime.frames
    }
  })
}
