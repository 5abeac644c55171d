/**
 * The invariants every run must keep, checked from what the recorder saw and the peers'
 * final state:
 * - exclusive: two healthy, connected nodes never run renderers for one block at once
 *   (beyond what the profile's message delays allow; see `overlapAllowanceMs`);
 * - complete: every block of every enabled job ends DONE or ERROR while an eligible node lives;
 * - converged: connected peers hold one state hash and every event any of them holds;
 * - honest: no holder is declared dead while it was up, running and reachable (profiles
 *   without loss: only delays, which hail must see through).
 */
import { DEAD_AFTER_SILENCE_MS, HEARTBEAT_INTERVAL_MS } from '../../src/protocol/liveness.js'
import { ineligibility } from '../../src/protocol/scheduling.js'
import type { FarmView } from '../../src/protocol/view.js'
import { TICK_MS } from './node.js'
import type { SimNode } from './node.js'
import type { FaultProfile } from './profiles.js'
import type { Interval, Recorder, RenderSpan } from './recorder.js'

/** After a node resumes, restarts or a partition heals, how long it may take to learn what it missed. */
export function recoveryGraceMs (profile: FaultProfile): number {
  const { network } = profile
  return 2 * (network.latencyMaxMs + network.spikeMs) + HEARTBEAT_INTERVAL_MS + 2 * TICK_MS
}

/**
 * How long two healthy connected nodes may both render one block. Zero on a clean LAN:
 * the settle window covers delivery. When gossip can be lost or held up, a node learns of a
 * rival claim from the next heartbeat (which names the sender's feed length) and a pull.
 */
export function overlapAllowanceMs (profile: FaultProfile): number {
  const { network } = profile
  if (network.loss === 0 && network.spikeChance === 0) return 0
  const perTry = HEARTBEAT_INTERVAL_MS + 2 * network.latencyMaxMs + TICK_MS
  return network.loss > 0 ? 5 * perTry : 2 * perTry
}

function covered (span: Interval, excuses: Interval[]): number {
  const clipped = excuses
    .map((excuse) => ({ startMs: Math.max(span.startMs, excuse.startMs), endMs: Math.min(span.endMs, excuse.endMs) }))
    .filter((excuse) => excuse.endMs > excuse.startMs)
    .sort((a, b) => a.startMs - b.startMs)
  let total = 0
  let reach = span.startMs
  for (const excuse of clipped) {
    const from = Math.max(reach, excuse.startMs)
    if (excuse.endMs > from) total += excuse.endMs - from
    reach = Math.max(reach, excuse.endMs)
  }
  return total
}

function excusesFor (recorder: Recorder, a: string, b: string, graceMs: number): Interval[] {
  const periods = [...recorder.unhealthy.get(a) ?? [], ...recorder.unhealthy.get(b) ?? []]
  const cuts = recorder.partitions.filter((cut) => cut.island.has(a) !== cut.island.has(b))
  return [...periods, ...cuts].map((period) => ({ startMs: period.startMs, endMs: period.endMs + graceMs }))
}

export interface OverlapReport {
  /** Overlaps between healthy connected nodes (each within the allowance, or a violation). */
  readonly overlaps: number
  readonly longestMs: number
  readonly violations: string[]
}

export function checkExclusive (recorder: Recorder, profile: FaultProfile, label: (node: string) => string): OverlapReport {
  const byBlock = new Map<string, RenderSpan[]>()
  for (const span of recorder.spans) {
    const key = `${span.target.jobId}/${span.target.block}`
    byBlock.set(key, [...byBlock.get(key) ?? [], span])
  }
  const graceMs = recoveryGraceMs(profile)
  const allowanceMs = overlapAllowanceMs(profile)
  const violations: string[] = []
  let overlaps = 0
  let longestMs = 0
  for (const [key, spans] of byBlock) {
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const a = spans[i]
        const b = spans[j]
        if (a === undefined || b === undefined || a.node === b.node) continue
        const overlap = { startMs: Math.max(a.startMs, b.startMs), endMs: Math.min(a.endMs, b.endMs) }
        if (overlap.endMs <= overlap.startMs) continue
        const unexcusedMs = overlap.endMs - overlap.startMs - covered(overlap, excusesFor(recorder, a.node, b.node, graceMs))
        if (unexcusedMs <= 0) continue
        overlaps++
        longestMs = Math.max(longestMs, unexcusedMs)
        if (unexcusedMs > allowanceMs) {
          violations.push(`exclusive: ${label(a.node)} (epoch ${a.target.epoch}) and ${label(b.node)} (epoch ${b.target.epoch}) both rendered block ${key} for ${unexcusedMs} ms from ${overlap.startMs} ms while healthy and connected (allowed ${allowanceMs} ms)`)
        }
      }
    }
  }
  return { overlaps, longestMs, violations }
}

/** Blocks not ended while some live node could still take them. */
export function checkComplete (view: FarmView, live: readonly string[]): string[] {
  const violations: string[] = []
  for (const job of view.jobs) {
    if (!job.enabled || job.halted) continue
    const open = job.blocks.filter((block) => block.status !== 'DONE' && block.status !== 'ERROR')
    if (open.length === 0) continue
    const eligible = view.nodes.filter((node) => live.includes(node.id) && ineligibility({ node, mayRender: true, idle: true }, job) === null)
    if (eligible.length > 0) violations.push(`complete: job ${job.shortId} has ${open.length} unfinished blocks (${open.map((block) => `${block.index}:${block.status}`).join(' ')}) with ${eligible.length} eligible nodes alive`)
  }
  return violations
}

export function checkConverged (nodes: readonly SimNode[]): string[] {
  const up = nodes.filter((node) => node.status === 'up')
  const hashes = new Set(up.map((node) => node.replica.stateHash()))
  const violations: string[] = []
  if (hashes.size > 1) violations.push(`converged: ${up.length} connected peers hold ${hashes.size} different state hashes`)
  const union: Record<string, number> = {}
  for (const node of up) {
    for (const [author, seq] of Object.entries(node.replica.versionVector())) union[author] = Math.max(union[author] ?? 0, seq)
  }
  for (const node of up) {
    const vector = node.replica.versionVector()
    const missing = Object.entries(union).filter(([author, seq]) => (vector[author] ?? 0) < seq)
    if (missing.length > 0) violations.push(`no record lost: node ${node.index} lacks ${missing.map(([author, seq]) => `${author.slice(-6)} up to #${seq}`).join(', ')}`)
  }
  return violations
}

/** A dead verdict on a node that was up, running and reachable from its judge for the whole hail. */
export function falseDeaths (recorder: Recorder, label: (node: string) => string): string[] {
  const window = DEAD_AFTER_SILENCE_MS + HEARTBEAT_INTERVAL_MS
  return recorder.declares
    .filter(({ by, peer, atMs }) => {
      const span = { startMs: atMs - window, endMs: atMs }
      return covered(span, excusesFor(recorder, by, peer, 0)) === 0
    })
    .map(({ by, peer, atMs }) => `honest: ${label(by)} declared ${label(peer)} dead at ${atMs} ms though it was up and reachable`)
}
