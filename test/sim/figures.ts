/**
 * Figures over many runs, for the summary the runner prints: takeover latency by cause,
 * claim collisions per 1,000 blocks, hail traffic, how often renders overlapped, and how
 * fast steering stopped renders.
 */
import type { RunResult } from './sim.js'

function percentile (sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN
}

function distribution (values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return 'none'
  const ms = (value: number): string => `${(value / 1000).toFixed(2)} s`
  return `n=${sorted.length} p50 ${ms(percentile(sorted, 0.5))}, p90 ${ms(percentile(sorted, 0.9))}, p99 ${ms(percentile(sorted, 0.99))}, max ${ms(sorted.at(-1) ?? 0)}`
}

/** Lines of text summarising `results`. */
export function summarize (results: readonly RunResult[]): string[] {
  const sum = (pick: (result: RunResult) => number): number => results.reduce((total, result) => total + pick(result), 0)
  const blocks = sum((result) => result.figures.blocks)
  const takeovers = results.flatMap((result) => result.figures.takeovers)
  const perThousand = (count: number): string => (blocks === 0 ? '0' : (1000 * count / blocks).toFixed(2))
  const lines = [
    `runs: ${results.length}, failed: ${results.filter((result) => result.violations.length > 0).length}, blocks: ${blocks}, events: ${sum((result) => result.figures.events)}, messages: ${sum((result) => result.figures.messages)}, virtual time: ${(sum((result) => result.figures.virtualMs) / 3_600_000).toFixed(2)} h`,
    `claim collisions: ${sum((result) => result.figures.collisions)} (${perThousand(sum((result) => result.figures.collisions))} per 1,000 blocks)`,
    `renders stopped on losing the lease: ${sum((result) => result.figures.lostLeaseStops)} (${perThousand(sum((result) => result.figures.lostLeaseStops))} per 1,000 blocks)`,
    `overlapping renders of healthy connected nodes (within the settle window): ${sum((result) => result.figures.overlaps)}, longest ${Math.max(0, ...results.map((result) => result.figures.longestOverlapMs))} ms`
  ]
  const detections = results.flatMap((result) => result.figures.detections)
  for (const cause of ['crash', 'hang'] as const) {
    lines.push(`detection (${cause} to first dead verdict): ${distribution(detections.filter((detection) => detection.cause === cause).map((detection) => detection.ms))}`)
  }
  for (const cause of ['crash', 'hang', 'shutdown'] as const) {
    lines.push(`takeover (${cause} to the block rendering again; includes waiting for a free node): ${distribution(takeovers.filter((takeover) => takeover.cause === cause).map((takeover) => takeover.ms))}`)
  }
  lines.push(
    `hail: ${sum((result) => result.figures.hails)} direct, ${sum((result) => result.figures.indirectHails)} indirect, ${sum((result) => result.figures.leasesFreed)} leases freed by "no", ${sum((result) => result.figures.deadVerdicts)} dead verdicts, ${sum((result) => result.figures.falseDeaths)} on nodes heard alive`
  )
  lines.push(`steering: ${sum((result) => result.figures.steerActs)} acts; halt, disable or delete to its job's renders stopped: ${distribution(results.flatMap((result) => result.figures.steerStops))}`)
  const profiles = [...new Set(results.map((result) => result.profile))]
  lines.push(`by profile: ${profiles.map((profile) => `${profile} ${results.filter((result) => result.profile === profile).length}`).join(', ')}`)
  return lines
}
