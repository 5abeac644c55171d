/**
 * Fault profiles: how bad the network is, which failures a run injects and how far the
 * nodes' clocks disagree. Every run also steers its jobs (sim.ts: halt, disable, delete,
 * retry, re-prioritise). The CI matrix runs every profile; `npm run sim -- --profile NAME`
 * runs one.
 */

export interface NetworkProfile {
  /** Per-message one-way latency, uniform in [min, max]; jitter reorders messages. */
  readonly latencyMinMs: number
  readonly latencyMaxMs: number
  /** Chance that a gossip message (event push, heartbeat) is held up by `spikeMs` more: a gossip burst. */
  readonly spikeChance: number
  readonly spikeMs: number
  /** Chance that any message is lost, or delivered twice. */
  readonly loss: number
  readonly duplication: number
  /** How many times a node's outgoing gossip stalls (a burst queued on a busy host) for 2.5 to 6 s; streams still flow. */
  readonly stalls: number
}

export interface FaultProfile {
  readonly name: string
  readonly network: NetworkProfile
  /** Faults injected during the fault phase. */
  readonly crashes: number
  /** Share of crashed nodes that never come back. */
  readonly permanentCrashShare: number
  readonly pauses: number
  readonly partitions: number
  /** Chance per render attempt of a retryable failure; chance per job that it fails fatally. */
  readonly retryableFailure: number
  readonly fatalJob: number
  /** Each node's wall clock is off by up to this much, either way (the HLC must see through it). */
  readonly clockSkewMaxMs: number
}

const LAN: NetworkProfile = { latencyMinMs: 1, latencyMaxMs: 20, spikeChance: 0, spikeMs: 0, loss: 0, duplication: 0, stalls: 0 }

/** Minutes apart, as unsynchronised studio machines drift: far inside the hour an event may run ahead. */
const SKEWED_MS = 5 * 60_000

const quiet = { crashes: 0, permanentCrashShare: 0, pauses: 0, partitions: 0, retryableFailure: 0, fatalJob: 0, clockSkewMaxMs: SKEWED_MS }

export const PROFILES: readonly FaultProfile[] = [
  // The one profile with clocks in step: a baseline for the skewed rest.
  { name: 'clean', network: LAN, ...quiet, clockSkewMaxMs: 0 },
  { name: 'failures', network: LAN, ...quiet, retryableFailure: 0.15, fatalJob: 0.2 },
  { name: 'lossy', network: { ...LAN, latencyMaxMs: 60, loss: 0.1, duplication: 0.05 }, ...quiet, crashes: 1 },
  // Only delays: gossip late by up to 6 s, so holders are hailed, but none may be taken over.
  { name: 'delays', network: { ...LAN, latencyMaxMs: 120, spikeChance: 0.05, spikeMs: 2_500, stalls: 4 }, ...quiet },
  { name: 'crashes', network: LAN, ...quiet, crashes: 4, permanentCrashShare: 0.5 },
  { name: 'pauses', network: LAN, ...quiet, pauses: 4 },
  { name: 'partitions', network: { ...LAN, latencyMaxMs: 40 }, ...quiet, partitions: 2 },
  {
    name: 'chaos',
    network: { latencyMinMs: 1, latencyMaxMs: 80, spikeChance: 0.02, spikeMs: 1_500, loss: 0.05, duplication: 0.05, stalls: 1 },
    crashes: 3,
    permanentCrashShare: 0.3,
    pauses: 2,
    partitions: 1,
    retryableFailure: 0.1,
    fatalJob: 0.1,
    clockSkewMaxMs: 2 * SKEWED_MS
  }
]

export function profileNamed (name: string): FaultProfile {
  const profile = PROFILES.find((candidate) => candidate.name === name)
  if (profile === undefined) throw new RangeError(`no fault profile ${name}; expected one of ${PROFILES.map((known) => known.name).join(', ')}`)
  return profile
}
