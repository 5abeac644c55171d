/**
 * The chaos suite's faults and its seeded schedule of them. The plan is a pure function of
 * the seed and the settings, so a run's faults replay from its seed; what they hit (which
 * block a node held when it was killed) still depends on timing. Each kind can be switched
 * on or off, so the suite can run green on the faults the code survives today while the
 * others are being fixed.
 */
import { Prng } from '../../sim/prng.js'

/** Every fault the suite knows how to inflict, and heal. */
export const FAULT_KINDS = [
  /** SIGKILL the node, restart it on the same data dir. */
  'kill',
  /** SIGKILL, delete the store (keeping identity.key, the documented recovery), restart. */
  'store-delete',
  /** SIGKILL, flip bytes in one LevelDB file of the store, restart. */
  'store-damage',
  /** Take the host's link to the segment down, later up. */
  'link-cut',
  /** SIGSTOP the node, later SIGCONT. */
  'stop',
  /** Fill the node's scratch disk (a small tmpfs), later free it. */
  'scratch-full',
  /** Make the jobs' targets read-only (a read-only bind mount), later writable again. */
  'target-readonly'
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Faults that hit the whole farm rather than one node. */
export const FARM_WIDE_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(['target-readonly'])

export interface FaultStep {
  /** When to inflict it, from the start of the chaos. */
  readonly atMs: number
  readonly kind: FaultKind
  /** Which node (an index into the farm's nodes); ignored by farm-wide faults. */
  readonly node: number
  /** How long the fault lasts before it is healed (the node restarted, the link up, ...). */
  readonly holdMs: number
}

export interface PlanSettings {
  readonly seed: number
  readonly kinds: readonly FaultKind[]
  readonly nodes: number
  readonly durationMs: number
  /** The mean time between two faults. */
  readonly meanGapMs: number
}

/** How long each kind lasts, [min, max] ms: long enough to matter, short enough to heal inside a run. */
const HOLD_MS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  kill: [500, 5_000],
  'store-delete': [500, 3_000],
  'store-damage': [500, 3_000],
  'link-cut': [2_000, 10_000],
  stop: [1_000, 8_000],
  'scratch-full': [3_000, 12_000],
  'target-readonly': [2_000, 8_000]
}

/** The faults of one run, in time order. */
export function planFaults (settings: PlanSettings): FaultStep[] {
  if (settings.kinds.length === 0) return []
  const prng = new Prng(settings.seed)
  const steps: FaultStep[] = []
  for (let atMs = prng.int(500, settings.meanGapMs); atMs < settings.durationMs; atMs += prng.int(settings.meanGapMs / 2, (settings.meanGapMs * 3) / 2)) {
    const kind = prng.pick(settings.kinds)
    const [min, max] = HOLD_MS[kind]
    steps.push({ atMs, kind, node: prng.int(0, settings.nodes - 1), holdMs: prng.int(min, max) })
  }
  return steps
}

/** Parses a comma-separated list of fault kinds (the CLI's --faults). */
export function parseFaultKinds (text: string): FaultKind[] {
  const kinds = text.split(',').map((part) => part.trim()).filter((part) => part !== '')
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new RangeError(`unknown fault kind ${kind}: one of ${FAULT_KINDS.join(', ')}`)
  }
  return kinds as FaultKind[]
}
