/**
 * The farm past this machine, in the simulator (test/sim): farms of 10 to 500 nodes on the
 * real protocol core, heartbeats paced as the node paces them, with faults that grow with
 * the farm (a crash per dozen nodes, a hang per two dozen), as a studio's would. Per farm size it prints what each node sends per
 * second (its own heartbeats, the copies gossip makes of everyone's, the hail messages)
 * and how long a crashed or hung holder's block takes to render again.
 */
import { profileNamed, type FaultProfile } from '../test/sim/profiles.js'
import { runSeed, type RunResult } from '../test/sim/sim.js'
import { formatMs, percentile, type Row } from './report.js'
import type { BenchReport } from './results.js'

export const SCALE_FARM_SIZES = [10, 50, 200, 500] as const
const NODES_PER_CRASH = 12
const NODES_PER_HANG = 25
const SEED = 1

/** The crash profile's LAN, with faults in proportion to the farm. */
function scaledFaults (nodes: number): FaultProfile {
  return { ...profileNamed('crashes'), name: `scaled faults, ${nodes} nodes`, crashes: Math.max(1, Math.round(nodes / NODES_PER_CRASH)), pauses: Math.max(1, Math.round(nodes / NODES_PER_HANG)) }
}

interface FarmFigures {
  readonly nodes: number
  readonly beatsPublished: number
  readonly beatCopies: number
  readonly hails: number
  readonly takeoverMs: readonly number[]
  readonly wallMs: number
  readonly violations: readonly string[]
}

/** What `result` says per node per second of virtual time. */
function perNodePerS (result: RunResult, count: number): number {
  return count / result.nodes / (result.figures.virtualMs / 1000)
}

async function farmOf (nodes: number): Promise<FarmFigures> {
  const started = performance.now()
  const result = await runSeed({ seed: SEED, nodes, profile: scaledFaults(nodes), pacedHeartbeats: true })
  const { sent, published, takeovers } = result.figures
  return {
    nodes,
    beatsPublished: perNodePerS(result, published.heartbeat),
    beatCopies: perNodePerS(result, sent.heartbeat),
    hails: perNodePerS(result, sent.hail),
    takeoverMs: takeovers.map(({ ms }) => ms),
    wallMs: performance.now() - started,
    violations: result.violations
  }
}

const rate = (value: number): string => `${value.toFixed(2)} /s`

export async function runScaleBench (): Promise<BenchReport> {
  const farms: FarmFigures[] = []
  for (const nodes of SCALE_FARM_SIZES) farms.push(await farmOf(nodes))
  const rows: Row[] = farms.flatMap((farm): Row[] => [
    [`${farm.nodes} nodes: heartbeats a node publishes`, rate(farm.beatsPublished), 'per node per second of virtual time'],
    [`${farm.nodes} nodes: heartbeat copies a node sends`, rate(farm.beatCopies), 'the sim delivers each beat to every connected peer (gossipsub relays it through its mesh)'],
    [`${farm.nodes} nodes: hail messages a node sends`, rate(farm.hails), 'hails, indirect hails and their answers'],
    [`${farm.nodes} nodes: takeover p50 / max`, farm.takeoverMs.length === 0 ? 'none' : `${formatMs(percentile(farm.takeoverMs, 0.5))} / ${formatMs(Math.max(...farm.takeoverMs))}`, `${farm.takeoverMs.length} blocks taken over; ${farm.violations.length === 0 ? 'every invariant held' : `VIOLATED: ${farm.violations.join('; ')}`}; ${formatMs(farm.wallMs)} to simulate`]
  ])
  const smallest = farms[0]
  const largest = farms.at(-1)
  if (smallest === undefined || largest === undefined) throw new RangeError('no farm sizes')
  const sent = (farm: FarmFigures): number => farm.beatsPublished + farm.hails
  const allTakeovers = largest.takeoverMs
  return {
    tables: [{ title: `Scale, simulated: farms of ${SCALE_FARM_SIZES.join(', ')} nodes, faults in proportion (seed ${SEED})`, rows }],
    figures: {
      'scale.500.sentPerNodePerS': { value: sent(largest), note: `heartbeats published and hail messages; ${rate(sent(smallest))} at ${smallest.nodes} nodes` },
      'scale.500.takeoverP99Ms': { value: allTakeovers.length === 0 ? Number.NaN : percentile(allTakeovers, 0.99), note: `${allTakeovers.length} blocks taken over at ${largest.nodes} nodes` }
    }
  }
}
