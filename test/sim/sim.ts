/**
 * One simulated run: a farm of 10 to 50 nodes (up to 500 when named) on the real protocol core, a virtual clock,
 * the simulated network, the faults of a profile and nodes' clocks off by up to its skew,
 * all from one seed. The jobs are steered while they render, as a studio does: halted and
 * resumed, disabled and enabled, deleted, retried when they fail (or once done), given a
 * new priority, by their artist or the wrangler, and now and then by someone who may not.
 * The run ends when every job is finished and the connected peers agree, or at a time
 * limit; then the invariants are checked. The same seed gives the same trace hash.
 */
import type { JobFields } from '../../src/protocol/events.js'
import { blockCount } from '../../src/protocol/frames.js'
import type { Signer } from '../../src/protocol/signing.js'
import type { Classification } from '../../src/protocol/vocabulary.js'
import { makeSigners } from '../helpers/farm-events.js'
import { checkComplete, checkConverged, checkExclusive, checkRedone, checkSteering, falseDeaths, steerStopLatencies } from './invariants.js'
import { DISCONNECT_DETECT_MS, KEEP_ALIVE_TIMEOUT_MS, SimNode, type JobPlan, type SimContext } from './node.js'
import { Network, type Message } from './network.js'
import { PROFILES, type FaultProfile } from './profiles.js'
import { Prng } from './prng.js'
import { EventQueue } from './queue.js'
import { Recorder, type TakeoverCause } from './recorder.js'
import { scheduleRetries, scheduleSteering, steeringPlan } from './steering.js'

export const MIN_NODES = 10
/** The largest farm a seed draws when no size is named. */
export const MAX_NODES = 50
/** The largest farm a run may be given (`nodes`), as the scale bench runs them. */
export const LARGEST_FARM = 500
/** Faults strike within this phase; afterwards partitions heal and paused nodes resume. */
const FAULT_PHASE_MS = 30_000
/** A run that has not finished by then has failed the completion invariant. */
const TIME_LIMIT_MS = 400_000
/** The share of jobs whose frames take next to no time, and how long those take. */
const SHORT_FRAMES_SHARE = 0.25
const SHORT_FRAME_MS_MIN = 5
const SHORT_FRAME_MS_MAX = 60
/** How often the run checks whether it is done. */
const CHECK_EVERY_MS = 1_000
/** Partitions start in separate slots of this length and last at most 8 s, so they never overlap. */
const PARTITION_SLOT_MS = 10_000
/**
 * Nodes no node fault strikes (partitions still may): the controller, the farm's founder
 * and so a wrangler, and an artist's workstation. They submit and steer the jobs.
 */
const STEERING_NODES = 2

export interface RunOptions {
  readonly seed: number
  readonly profile?: FaultProfile
  /** Node count; by default drawn from the seed in [MIN_NODES, `maxNodes`]. */
  readonly nodes?: number
  readonly maxNodes?: number
  /** Pace heartbeats as the real node does (SimContext.pacedHeartbeats); off by default. */
  readonly pacedHeartbeats?: boolean
}

export interface RunFigures {
  readonly virtualMs: number
  readonly blocks: number
  readonly events: number
  readonly messages: number
  /** Messages sent by kind (a gossip once per peer it reaches), and gossips published by kind. */
  readonly sent: Readonly<Record<Message['kind'], number>>
  readonly published: Readonly<Record<Message['kind'], number>>
  readonly collisions: number
  readonly takeovers: readonly { readonly cause: TakeoverCause, readonly ms: number }[]
  readonly detections: readonly { readonly cause: TakeoverCause, readonly ms: number }[]
  readonly overlaps: number
  readonly longestOverlapMs: number
  readonly hails: number
  readonly indirectHails: number
  readonly leasesFreed: number
  readonly deadVerdicts: number
  /** Dead verdicts on nodes that were up, connected and heard alive (each one a violation). */
  readonly falseDeaths: number
  readonly lostLeaseStops: number
  /** Steering acts written, and from each halt, disable or delete to the last of its job's renders stopping. */
  readonly steerActs: number
  readonly steerStops: readonly number[]
}

export interface RunResult {
  readonly seed: number
  readonly profile: string
  readonly nodes: number
  readonly violations: readonly string[]
  readonly traceHash: string
  readonly figures: RunFigures
}

let signersOnce: Promise<Signer[]> | undefined

/** Deterministic identities for up to LARGEST_FARM nodes, made once per process. */
export async function simSigners (): Promise<Signer[]> {
  signersOnce ??= makeSigners(LARGEST_FARM)
  return signersOnce
}

/** The profile a seed runs under when none is named: seeds cycle through the matrix. */
export function profileOfSeed (seed: number): FaultProfile {
  const profile = PROFILES[seed % PROFILES.length]
  if (profile === undefined) throw new RangeError('no fault profiles')
  return profile
}

function jobOf (prng: Prng, index: number): JobFields {
  const frameStart = prng.int(1, 100)
  return {
    name: `shot${String(index * 10).padStart(3, '0')}`,
    project: 'sim',
    user: 'sim',
    software: 'procedural',
    scenePath: `/scenes/shot${index}.blend`,
    targetPath: `/renders/shot${index}`,
    frameStart,
    frameEnd: frameStart + prng.int(3, 40),
    blockSize: prng.int(1, 4),
    layer: null,
    camera: null,
    imageName: null,
    imageFormat: null,
    commandTemplate: null,
    priority: prng.int(0, 99),
    classification: prng.pick<Classification>(['A', 'A', 'B']),
    maxRetries: prng.int(1, 3),
    enabled: true
  }
}

export async function runSeed (options: RunOptions): Promise<RunResult> {
  const signers = await simSigners()
  const root = new Prng(options.seed)
  const profile = options.profile ?? profileOfSeed(options.seed)
  // Drawn even when given, so a replay with --nodes follows the same random stream as the run it replays.
  const drawn = root.int(MIN_NODES, options.maxNodes ?? MAX_NODES)
  const count = options.nodes ?? drawn
  if (count < 2 || count > signers.length) throw new RangeError(`a run needs 2 to ${signers.length} nodes, not ${count}`)
  const queue = new EventQueue()
  const recorder = new Recorder()
  const network = new Network(queue, root.fork(), profile.network, (from, to, message) => { heardAlive(recorder, queue, from, to, message) })
  const scenario = root.fork()
  const jobs = Array.from({ length: scenario.int(1, 4) }, (_, index) => jobOf(scenario, index))
  const jobPlans = jobs.map((job): JobPlan => ({
    // One job in four renders frames in a few milliseconds (comp, proxies): nodes then claim
    // blocks ahead while they render, up to MAX_HELD_LEASES.
    frameMs: scenario.chance(SHORT_FRAMES_SHARE) ? scenario.int(SHORT_FRAME_MS_MIN, SHORT_FRAME_MS_MAX) : scenario.int(800, 4_000),
    fatalBlock: scenario.chance(profile.fatalJob) ? scenario.int(0, blockCount(job) - 1) : null
  }))
  // Filled as the controller submits: a job's id comes from its submit event.
  const plans = new Map<string, JobPlan>()
  const authority = { founder: signers[0]?.author ?? null }
  const context: SimContext = { queue, network, recorder, profile, plans, authority, pacedHeartbeats: options.pacedHeartbeats ?? false }
  const clocks = root.fork()
  const nodes = signers.slice(0, count).map((signer, index) => {
    const offsetMs = Math.round((2 * clocks.next() - 1) * profile.clockSkewMaxMs)
    return new SimNode(context, index, signer, root.fork(), offsetMs)
  })
  const label = (id: string): string => `node ${nodes.findIndex((node) => node.id === id)}`
  const [controller, artist] = nodes
  if (controller === undefined || artist === undefined) throw new RangeError('a run needs a controller and an artist')
  const submitters = jobs.map(() => scenario.pick([controller, artist]))

  for (const node of nodes) node.start()
  // The controller routes some nodes to one class, as a wrangler would, then submits.
  queue.at(50, () => {
    for (const node of nodes.slice(2)) {
      if (scenario.chance(0.2)) controller.write({ type: 'node.settings', node: node.id, changes: { classifications: [scenario.pick<Classification>(['A', 'B'])] } })
    }
  })
  const jobIds: string[] = []
  const steering = steeringPlan({ prng: root.fork(), queue, recorder, plans, controller, nodes, jobIds, untilMs: FAULT_PHASE_MS, steerers: STEERING_NODES })
  jobs.forEach((job, index) => {
    queue.at(100 + index * scenario.int(0, 3_000), () => {
      const submitter = submitters[index] ?? controller
      const submitted = submitter.write({ type: 'job.submitted', job })?.event.body
      const plan = jobPlans[index]
      if (submitted?.type !== 'job.submitted' || plan === undefined) throw new Error(`node ${submitter.index} did not submit job ${index}`)
      plans.set(submitted.job.id, plan)
      jobIds[index] = submitted.job.id
      scheduleSteering(steering, submitted.job.id, submitter, jobs.length)
    })
  })
  scheduleRetries(steering)
  for (let record = 0; record < 3; record++) {
    const author = scenario.pick(nodes)
    queue.at(scenario.int(0, FAULT_PHASE_MS), () => {
      author.write({ type: 'log.recorded', clientName: `node-${author.index}`, jobId: null, block: null, description: `note ${record}`, outputTail: [] })
    })
  }
  scheduleFaults({ profile, prng: root.fork(), queue, network, recorder, nodes })

  const progress = { done: false }
  const check = (): void => {
    const up = nodes.filter((node) => node.status === 'up')
    const live = up.map((node) => node.id)
    const finished = up.every((node) => checkComplete(node.replica.view(), live).length === 0 && node.replica.view().jobs.length === jobs.length - steering.deleted.size)
    progress.done = queue.nowMs > FAULT_PHASE_MS && finished && checkConverged(nodes).length === 0
    if (!progress.done) queue.after(CHECK_EVERY_MS, check)
  }
  queue.at(FAULT_PHASE_MS, check)
  queue.runUntil(TIME_LIMIT_MS, () => progress.done)
  const endMs = queue.nowMs
  recorder.finishRun(endMs)

  const up = nodes.filter((node) => node.status === 'up')
  const live = up.map((node) => node.id)
  const exclusive = checkExclusive(recorder, profile, label)
  const dishonest = falseDeaths(recorder, label)
  const finalView = (up[0] ?? controller).replica.view()
  const violations = [
    ...exclusive.violations,
    ...checkRedone(recorder, profile, label),
    ...checkSteering(recorder, profile, finalView, label),
    ...checkComplete(finalView, live),
    ...(progress.done ? [] : checkConverged(nodes)),
    ...dishonest,
    ...recorder.problems
  ]
  if (!progress.done && violations.length === 0) violations.push(`time limit: not finished after ${TIME_LIMIT_MS} ms`)
  return {
    seed: options.seed,
    profile: profile.name,
    nodes: count,
    violations,
    traceHash: recorder.traceHash(),
    figures: {
      virtualMs: endMs,
      blocks: finalView.jobs.reduce((sum, job) => sum + job.blocks.length, 0),
      events: controller.events(),
      messages: network.messages,
      sent: { ...network.sent },
      published: { ...network.published },
      collisions: collisionsIn(controller),
      takeovers: recorder.takeovers,
      detections: recorder.detections,
      overlaps: exclusive.overlaps,
      longestOverlapMs: exclusive.longestMs,
      hails: recorder.counts.hails,
      indirectHails: recorder.counts.indirectHails,
      leasesFreed: recorder.counts.leasesFreed,
      deadVerdicts: recorder.declares.length,
      falseDeaths: dishonest.length,
      lostLeaseStops: recorder.counts.lostLeaseStops,
      steerActs: recorder.steering.length,
      steerStops: steerStopLatencies(recorder)
    }
  }
}

/** Records the messages that tell their receiver a peer is alive: its heartbeats and its hail answers, direct or relayed. */
function heardAlive (recorder: Recorder, queue: EventQueue, from: string, to: string, message: Message): void {
  if (message.kind === 'heartbeat' || (message.kind === 'hail' && message.message.type === 'hail-answer')) recorder.delivered(from, to, queue.nowMs)
  if (message.kind === 'hail' && message.message.type === 'indirect-answer') recorder.delivered(message.message.target, to, queue.nowMs)
}

/** Epochs of a block claimed by more than one node: collisions the lease rule had to settle. */
function collisionsIn (node: SimNode): number {
  let collisions = 0
  for (const job of Object.values(node.replica.records.jobs)) {
    for (const block of Object.values(job.blocks)) {
      const claimants = new Map<number, Set<string>>()
      for (const claim of Object.values(block.claims)) {
        const authors = claimants.get(claim.epoch) ?? new Set<string>()
        authors.add(claim.stamp.author)
        claimants.set(claim.epoch, authors)
      }
      for (const authors of claimants.values()) if (authors.size > 1) collisions++
    }
  }
  return collisions
}

interface FaultPlan {
  readonly profile: FaultProfile
  readonly prng: Prng
  readonly queue: EventQueue
  readonly network: Network
  readonly recorder: Recorder
  readonly nodes: readonly SimNode[]
}

/** Picks a victim other than the steering nodes, preferring one that is rendering (to exercise takeover). */
function victim (plan: FaultPlan): SimNode | undefined {
  const candidates = plan.nodes.slice(STEERING_NODES).filter((node) => node.status === 'up')
  const busy = candidates.filter((node) => plan.recorder.rendering(node.id) !== null)
  const pool = busy.length > 0 && plan.prng.chance(0.8) ? busy : candidates
  return pool.length === 0 ? undefined : plan.prng.pick(pool)
}

/** Tells every node still connected to `node` that its connection dropped, after `delayMs`. */
function announceDisconnect (plan: FaultPlan, node: SimNode, delayMs: number, stillCut: () => boolean): void {
  plan.queue.after(delayMs, () => {
    if (!stillCut()) return
    for (const other of plan.nodes) if (other !== node) other.disconnected(node.id)
  })
}

function scheduleFaults (plan: FaultPlan): void {
  const { profile, prng, queue, nodes, recorder, network } = plan
  const faultTime = (): number => prng.int(1_000, FAULT_PHASE_MS - 10_000)
  const permanentLimit = Math.floor(nodes.length / 3)
  let permanent = 0
  for (let crash = 0; crash < profile.crashes; crash++) {
    const graceful = prng.chance(0.25)
    const stays = permanent < permanentLimit && prng.chance(profile.permanentCrashShare)
    if (stays) permanent++
    const downMs = prng.int(500, 8_000)
    queue.at(faultTime(), () => {
      const node = victim(plan)
      if (node === undefined) return
      recorder.fault(node.id, graceful ? 'shutdown' : 'crash', queue.nowMs)
      if (graceful) node.shutdown()
      else node.crash()
      announceDisconnect(plan, node, DISCONNECT_DETECT_MS, () => node.status === 'crashed')
      if (stays) return
      queue.after(downMs, () => {
        node.restart()
        recorder.recovered(node.id, queue.nowMs)
      })
    })
  }
  for (let pause = 0; pause < profile.pauses; pause++) {
    const pausedMs = prng.int(500, 6_000)
    queue.at(faultTime(), () => {
      const node = victim(plan)
      if (node === undefined) return
      recorder.fault(node.id, 'hang', queue.nowMs)
      node.pause()
      announceDisconnect(plan, node, KEEP_ALIVE_TIMEOUT_MS, () => node.status === 'paused')
      queue.after(pausedMs, () => {
        if (node.status !== 'paused') return
        node.resume()
        recorder.recovered(node.id, queue.nowMs)
      })
    })
  }
  for (let stall = 0; stall < profile.network.stalls; stall++) {
    const stalledMs = prng.int(2_500, 6_000)
    queue.at(faultTime(), () => {
      const node = victim(plan)
      if (node !== undefined) network.stallGossip(node.id, queue.nowMs + stalledMs)
    })
  }
  for (let cut = 0; cut < profile.partitions; cut++) {
    const lastsMs = prng.int(2_000, 8_000)
    const size = prng.int(1, Math.floor(nodes.length / 2))
    // One partition at a time: each in its own slot of the fault phase.
    queue.at(1_000 + cut * PARTITION_SLOT_MS + prng.int(0, PARTITION_SLOT_MS - 10_000), () => {
      const island = new Set(nodes.slice(1).filter(() => prng.chance(size / nodes.length)).map((node) => node.id))
      if (island.size === 0) return
      const partition = { island, startMs: queue.nowMs, endMs: Number.POSITIVE_INFINITY }
      recorder.partitions.push(partition)
      recorder.note(`${queue.nowMs} partition ${island.size}`)
      network.partition(island)
      queue.after(KEEP_ALIVE_TIMEOUT_MS, () => {
        if (partition.endMs !== Number.POSITIVE_INFINITY) return
        for (const a of nodes) for (const b of nodes) if (island.has(a.id) !== island.has(b.id)) a.disconnected(b.id)
      })
      queue.after(lastsMs, () => {
        partition.endMs = queue.nowMs
        network.heal()
        recorder.note(`${queue.nowMs} heal`)
        for (const node of nodes) if (island.has(node.id) && node.status === 'up') node.reconnect()
        for (const node of nodes) if (!island.has(node.id) && node.status === 'up') node.reconnect()
      })
    })
  }
}

