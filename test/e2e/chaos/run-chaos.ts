/**
 * One chaos run: a farm of real nodes renders rounds of jobs (a 200-frame job of the fast
 * fake renderer and a small real-Blender job) while a seeded schedule of faults hurts it;
 * then every fault is healed and the run checks what "never lose work, never redo it"
 * promises: every job DONE, every frame at its target exactly once and whole, every peer
 * with the same state hash and every event. Used by the ava test (a short run, in CI) and
 * by `npm run chaos` (a long one, with the figures printed).
 */
import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { PNG } from 'pngjs'
import type { JobFields, JobSpec } from '../../../src/protocol/events.js'
import { eventCount } from '../../../src/protocol/version-vector.js'
import type { FarmView } from '../../../src/protocol/view.js'
import { writeBlenderSampleScene } from '../../../src/render/blender-scene.js'
import { findExecutable } from '../../../src/render/discovery.js'
import { jobSpec } from '../../helpers/farm-events.js'
import { NodeExitedEarlyError } from '../../helpers/render-farm.js'
import { checkFrame } from '../../fixtures/render/checksummed-frame.js'
import { isAlive } from '../../fixtures/render/helpers.js'
import { Prng } from '../../sim/prng.js'
import { ChaosFarm, type ChaosNode, type PeerState } from './chaos-farm.js'
import { FARM_WIDE_FAULTS, FAULT_KINDS, planFaults, type FaultKind, type FaultStep } from './faults.js'
import { FrameLedger, type Rewrite, type TargetVerdict, type WholeCheck } from './frame-ledger.js'

export interface ChaosOptions {
  readonly seed: number
  /** How long faults are inflicted; then everything is healed and the farm finishes its jobs. */
  readonly chaosMs: number
  readonly faults: readonly FaultKind[]
  readonly nodes: number
  readonly meanFaultGapMs: number
  /** How long the healed farm may take to finish every job before the run fails. */
  readonly finishGuardMs: number
  /** Fail the run when a killed node's renderer outlives it by more than RENDERER_GRACE_MS. */
  readonly renderersDieWithNode: boolean
  /** Each line of the run's timeline as it happens (the CLI prints them). */
  readonly onLine?: (line: string) => void
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, 'seed' | 'chaosMs'> = {
  faults: FAULT_KINDS,
  nodes: 5,
  meanFaultGapMs: 3_000,
  finishGuardMs: 5 * 60_000,
  renderersDieWithNode: true
}

export interface FaultTally {
  planned: number
  injected: number
  /** Planned on a node (or the farm) still under an earlier fault. */
  skipped: number
}

export interface ChaosReport {
  readonly seed: number
  readonly options: Omit<ChaosOptions, 'onLine'>
  readonly faults: Readonly<Record<FaultKind, FaultTally>>
  readonly rounds: number
  readonly jobs: number
  readonly framesExpected: number
  readonly framesDelivered: number
  /** Frames written again after they first landed: must be 0. */
  readonly duplicates: readonly Rewrite[]
  readonly targets: readonly TargetVerdict[]
  /** Blocks with more than one `block.finished` in the log: work done twice, whether or not it reached the target twice. */
  readonly blocksFinishedTwice: readonly string[]
  /** Nodes that refused to start on a damaged store (then were repaired). */
  readonly refusedStarts: readonly string[]
  /** Nodes that exited without being told to. */
  readonly crashes: readonly string[]
  /** Renderer processes still alive RENDERER_GRACE_MS after their node was killed. */
  readonly orphanRenderers: number
  readonly peers: readonly PeerState[]
  readonly chaosMs: number
  /** From the last fault healed to every job DONE. */
  readonly finishMs: number
  readonly elapsedMs: number
  /** What broke the promise; empty for a good run. */
  readonly failures: readonly string[]
  readonly timeline: readonly string[]
}

/** A crashed node is started again after this, as systemd's RestartSec would. */
const CRASH_RESTART_MS = 1_000
/** How long a killed node's renderer may outlive it (issue 12: "a second or two"). */
const RENDERER_GRACE_MS = 2_000
/** The farm is settled when the observer has heard no new event for this long. */
const QUIET_MS = 5_000
const POLL_MS = 250
const FAKE_FRAMES = 200
const FAKE_BLOCK_SIZE = 5
const FAKE_FRAME_DELAY_MS = 100
/** Big enough that a torn copy is plausible, small enough for the scratch tmpfs. */
const FAKE_FRAME_BYTES = 64 * 1024
const BLENDER_FRAMES = 8
const BLENDER_BLOCK_SIZE = 2
const BLENDER_WIDTH = 160
const BLENDER_HEIGHT = 90
/** Chaos retries a block many times on purpose: a fault fails it, but must not end the job. */
const MAX_RETRIES = 100

interface Scenes {
  readonly fake: string
  readonly blender: string
}

interface RoundJobs {
  readonly jobs: readonly JobSpec[]
}

export async function runChaos (options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const timeline: string[] = []
  const failures: string[] = []
  const say = (line: string): void => {
    const stamped = `[${((Date.now() - started) / 1000).toFixed(1).padStart(7)}s] ${line}`
    timeline.push(stamped)
    options.onLine?.(stamped)
  }
  const tally = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, { planned: 0, injected: 0, skipped: 0 }])) as Record<FaultKind, FaultTally>
  const refusedStarts: string[] = []
  let orphanRenderers = 0

  const farm = await ChaosFarm.create(options.nodes)
  const crashes: string[] = []
  const restarting: Promise<void>[] = []
  farm.onCrash = ({ node, code, signal, stderrTail }) => {
    const last = stderrTail.filter((line) => /"level":"(error|fatal)"|Error/.test(line)).at(-1) ?? stderrTail.at(-1) ?? ''
    crashes.push(`${node.name} exited by itself (${String(code ?? signal)}): ${last.slice(0, 300)}`)
    say(`${node.name} CRASHED (${String(code ?? signal)}); restarting it`)
    restarting.push(sleep(CRASH_RESTART_MS).then(async () => {
      if (node.process === undefined && !node.busy) await farm.start(node)
    }).catch((error: unknown) => { failures.push(`${node.name} did not restart after a crash: ${(error as Error).message}`) }))
  }
  try {
    const scenes = await makeScenes(farm.farm.dir)
    await Promise.all(farm.nodes.map(async (node) => farm.start(node)))
    say(`${farm.nodes.length} nodes up; seed ${options.seed}; faults ${options.faults.join(', ') || 'none'}`)
    const { store } = await farm.farm.observer()
    const ledger = new FrameLedger(started)
    const rounds: RoundJobs[] = []
    const submitRound = async (): Promise<void> => {
      const round = rounds.length + 1
      const jobs = []
      for (const fields of roundJobs(round, scenes, farm.targetsDir)) {
        jobs.push(await farm.farm.submit(fields))
        ledger.watch(watchedTarget(fields))
      }
      rounds.push({ jobs })
      say(`round ${round} submitted: ${jobs.map((job) => job.name).join(', ')}`)
    }
    await submitRound()
    ledger.start()

    const chaosStart = Date.now()
    const chaosEnd = chaosStart + options.chaosMs
    const prng = new Prng(options.seed).fork()
    const plan = planFaults({ seed: options.seed, kinds: options.faults, nodes: options.nodes, durationMs: options.chaosMs, meanGapMs: options.meanFaultGapMs })
    let farmWideBusy = false
    const inflicting: Promise<void>[] = []

    const inflict = async (step: FaultStep, node: ChaosNode): Promise<void> => {
      const where = FARM_WIDE_FAULTS.has(step.kind) ? 'the targets' : node.name
      say(`${step.kind} ${where} for ${step.holdMs} ms`)
      switch (step.kind) {
        case 'kill':
        case 'store-delete':
        case 'store-damage': {
          const renderers = await farm.renderersOf(node)
          await farm.kill(node)
          const orphansChecked = sleep(RENDERER_GRACE_MS).then(async () => {
            const survivors = []
            for (const pid of renderers) if (await isAlive(pid)) survivors.push(pid)
            if (survivors.length === 0) return
            orphanRenderers += survivors.length
            say(`${node.name}: ${survivors.length} renderer process(es) outlived the node by ${RENDERER_GRACE_MS} ms (${survivors.join(', ')})`)
            if (options.renderersDieWithNode) failures.push(`${step.kind} of ${node.name} at ${step.atMs} ms: renderer pids ${survivors.join(', ')} outlived it by ${RENDERER_GRACE_MS} ms`)
            for (const pid of survivors) process.kill(pid, 'SIGKILL')
          })
          if (step.kind === 'store-delete') await farm.deleteStore(node)
          if (step.kind === 'store-damage') say(`${node.name}: damaged ${await farm.damageStore(node, (count) => prng.int(0, Math.max(0, count - 1)))}`)
          await sleep(step.holdMs)
          if (step.kind === 'store-damage') {
            const restarted = await farm.restartAfterDamage(node)
            if (restarted.refused) {
              refusedStarts.push(`${node.name}: ${restarted.why}`)
              say(`${node.name} refused its damaged store and was repaired: ${restarted.why}`)
            }
          } else {
            await farm.start(node)
          }
          await orphansChecked
          break
        }
        case 'link-cut':
          await farm.network.cut(node.host)
          await sleep(step.holdMs)
          await farm.network.restore(node.host)
          break
        case 'stop':
          farm.signal(node, 'SIGSTOP')
          await sleep(step.holdMs)
          farm.signal(node, 'SIGCONT')
          break
        case 'scratch-full':
          await farm.fillScratch(node)
          await sleep(step.holdMs)
          await farm.freeScratch(node)
          break
        case 'target-readonly':
          await farm.targetsReadOnly()
          await sleep(step.holdMs)
          await farm.targetsWritable()
          break
      }
      say(`${step.kind} ${where}: healed`)
    }

    const roundsDone = (view: FarmView): boolean => rounds.every((round) => round.jobs.every((job) => view.jobs.find((candidate) => candidate.id === job.id)?.status === 'DONE'))
    for (const step of plan) tally[step.kind].planned++
    for (const step of plan) {
      await sleepUntil(chaosStart + step.atMs, async () => {
        if (roundsDone(store.view()) && Date.now() < chaosEnd) await submitRound()
      })
      const node = farm.nodes[step.node]
      const farmWide = FARM_WIDE_FAULTS.has(step.kind)
      if (node === undefined || (farmWide ? farmWideBusy : node.busy)) {
        tally[step.kind].skipped++
        continue
      }
      tally[step.kind].injected++
      if (farmWide) farmWideBusy = true
      else node.busy = true
      inflicting.push(inflict(step, node).catch((error: unknown) => {
        failures.push(`${step.kind} of ${node.name} at ${step.atMs} ms failed: ${(error as Error).message}`)
        say(`${step.kind} ${node.name}: FAILED ${(error as Error).message.split('\n')[0] ?? ''}`)
      }).finally(() => {
        if (farmWide) farmWideBusy = false
        else node.busy = false
      }))
    }
    await sleepUntil(chaosEnd, async () => {
      if (roundsDone(store.view())) await submitRound()
    })
    await Promise.all(inflicting)
    await Promise.all(restarting)
    // A node whose restart failed is started again, so the farm can finish: on a store it
    // still refuses, after the documented last resort (delete the store, keep the identity).
    for (const node of farm.nodes) {
      if (node.process !== undefined) continue
      try {
        await farm.start(node)
      } catch (error) {
        if (!(error instanceof NodeExitedEarlyError)) throw error
        failures.push(`${node.name} would not start after the faults: ${error.stderr.trim().split('\n').at(-1) ?? ''}`)
        await farm.deleteStore(node)
        await farm.start(node)
      }
    }
    const healedAt = Date.now()
    say('every fault healed; waiting for every job to be DONE')

    const finished = await waitFor(() => roundsDone(store.view()), options.finishGuardMs)
    const finishMs = Date.now() - healedAt
    if (!finished) {
      const view = store.view()
      const open = rounds.flatMap((round) => round.jobs).map((job) => view.jobs.find((candidate) => candidate.id === job.id))
        .filter((job) => job?.status !== 'DONE')
        .map((job) => `${job?.name ?? '?'} ${job?.status ?? 'unknown'} (${job?.framesDone ?? 0}/${job?.framesTotal ?? 0} frames; blocks ${job?.blocks.filter((block) => block.status !== 'DONE').map((block) => `${block.index}:${block.status}`).join(' ') ?? ''})`)
      failures.push(`not every job DONE ${options.finishGuardMs} ms after the faults were healed: ${open.join('; ')}`)
    }
    say(finished ? `every job DONE after ${finishMs} ms` : 'gave up waiting for the jobs')
    await waitQuiet(() => eventCount(store.versionVector()))
    await ledger.stop()

    const targets = await ledger.verdicts()
    for (const target of targets) {
      if (target.missing.length > 0) failures.push(`${target.label}: ${target.missing.length} frames missing (${target.missing.slice(0, 5).join(', ')}...)`)
      if (target.broken.length > 0) failures.push(`${target.label}: ${target.broken.length} frames not whole (${target.broken.slice(0, 3).join('; ')})`)
      if (target.litter.length > 0) failures.push(`${target.label}: files that are no frame of the job (${target.litter.slice(0, 5).join(', ')})`)
    }
    if (ledger.rewrites.length > 0) {
      failures.push(`${ledger.rewrites.length} frames written again after they landed (${ledger.rewrites.slice(0, 5).map((rewrite) => `${rewrite.target}/${rewrite.file} at ${rewrite.atMs} ms`).join(', ')})`)
    }
    // A figure, not a failure: a killed or cut-off holder may have finished a block its peers
    // had already given to another node. Redone work is judged at the target, by the rewrites.
    const blocksFinishedTwice = await finishedTwice(store, new Map(rounds.flatMap((round) => round.jobs).map((job) => [job.id, job.name])))

    failures.push(...crashes)
    const peers = await farm.finalStates()
    failures.push(...peerDisagreements(peers))
    const jobs = rounds.flatMap((round) => round.jobs)
    return {
      seed: options.seed,
      options: { ...options, onLine: undefined } as Omit<ChaosOptions, 'onLine'>,
      faults: tally,
      rounds: rounds.length,
      jobs: jobs.length,
      framesExpected: jobs.reduce((sum, job) => sum + job.frameEnd - job.frameStart + 1, 0),
      framesDelivered: ledger.delivered,
      duplicates: ledger.rewrites,
      targets,
      blocksFinishedTwice,
      refusedStarts,
      crashes,
      orphanRenderers,
      peers,
      chaosMs: options.chaosMs,
      finishMs,
      elapsedMs: Date.now() - started,
      failures,
      timeline
    }
  } finally {
    await farm.destroy()
  }
}

async function makeScenes (dir: string): Promise<Scenes> {
  const fake = path.join(dir, 'fake-scene.json')
  await writeFile(fake, JSON.stringify({ frameDelayMs: FAKE_FRAME_DELAY_MS, frameBytes: FAKE_FRAME_BYTES }))
  const blender = path.join(dir, 'scene.blend')
  await writeBlenderSampleScene(await findExecutable('blender', undefined), blender, { samples: 4, width: BLENDER_WIDTH, height: BLENDER_HEIGHT, frameEnd: BLENDER_FRAMES })
  return { fake, blender }
}

/** A round's jobs: the farm renders them while the faults land. */
function roundJobs (round: number, scenes: Scenes, targetsDir: string): JobFields[] {
  const common = { project: 'chaos', user: 'chaos', frameStart: 1, maxRetries: MAX_RETRIES, priority: 50 }
  return [
    jobSpec({ ...common, name: `r${round}-fake`, software: 'maya-software', scenePath: scenes.fake, targetPath: path.join(targetsDir, `r${round}`, 'fake'), frameEnd: FAKE_FRAMES, blockSize: FAKE_BLOCK_SIZE, imageName: 'fake' }),
    jobSpec({ ...common, name: `r${round}-blender`, software: 'blender', scenePath: scenes.blender, targetPath: path.join(targetsDir, `r${round}`, 'blender'), frameEnd: BLENDER_FRAMES, blockSize: BLENDER_BLOCK_SIZE, imageName: 'shot', imageFormat: 'png' })
  ]
}

function frames (job: JobFields): number[] {
  return Array.from({ length: job.frameEnd - job.frameStart + 1 }, (_, index) => job.frameStart + index)
}

/** What each job leaves at its target, and how to tell a whole frame. */
function watchedTarget (job: JobFields): { label: string, dir: string, expected: string[], whole: WholeCheck } {
  if (job.software === 'blender') {
    return {
      label: job.name,
      dir: job.targetPath,
      expected: frames(job).map((frame) => `shot_${String(frame).padStart(4, '0')}.png`),
      whole: (_file, content) => {
        try {
          const png = PNG.sync.read(content)
          return png.width === BLENDER_WIDTH && png.height === BLENDER_HEIGHT ? undefined : `${png.width}x${png.height}, not ${BLENDER_WIDTH}x${BLENDER_HEIGHT}`
        } catch (error) {
          return `not a whole PNG: ${(error as Error).message}`
        }
      }
    }
  }
  return {
    label: job.name,
    dir: job.targetPath,
    expected: frames(job).map((frame) => `fake_${frame}.iff`),
    whole: (file, content) => {
      const check = checkFrame(content)
      if (check.kind === 'broken') return check.why
      return file === `fake_${check.frame}.iff` ? undefined : `holds frame ${check.frame}`
    }
  }
}

async function finishedTwice (store: Awaited<ReturnType<ChaosFarm['farm']['observer']>>['store'], names: ReadonlyMap<string, string>): Promise<string[]> {
  const finishes = new Map<string, number>()
  for await (const verified of store.allEvents()) {
    const { body } = verified.event
    if (body.type !== 'block.finished') continue
    const key = `${names.get(body.jobId) ?? body.jobId}#${body.block}`
    finishes.set(key, (finishes.get(key) ?? 0) + 1)
  }
  return [...finishes].filter(([, count]) => count > 1).map(([key, count]) => `${key} x${count}`)
}

/** Every peer must hold the observer's events and state, and pass its own self-check. */
function peerDisagreements (peers: readonly PeerState[]): string[] {
  const [reference, ...others] = peers
  if (reference === undefined) return ['no peer state read']
  const problems: string[] = []
  for (const peer of peers) {
    if (!peer.check.consistent) problems.push(`${peer.name}: store check INCONSISTENT (${peer.check.events} events, materialized ${peer.check.materializedHash}, replay ${peer.check.replayedHash})`)
  }
  for (const peer of others) {
    if (peer.stateHash !== reference.stateHash) problems.push(`${peer.name}: state hash ${peer.stateHash}, the observer's ${reference.stateHash}`)
    const authors = new Set([...Object.keys(peer.vv), ...Object.keys(reference.vv)])
    const differing = [...authors].filter((author) => peer.vv[author] !== reference.vv[author])
    if (differing.length > 0) problems.push(`${peer.name}: holds other events than the observer (${differing.map((author) => `${author.slice(-6)}: ${peer.vv[author] ?? 0} vs ${reference.vv[author] ?? 0}`).join(', ')})`)
  }
  return problems
}

/** Sleeps until `at`, doing `tick` every poll on the way. */
async function sleepUntil (at: number, tick: () => Promise<void>): Promise<void> {
  while (Date.now() < at) {
    await tick()
    await sleep(Math.min(POLL_MS, Math.max(0, at - Date.now())))
  }
}

async function waitFor (done: () => boolean, guardMs: number): Promise<boolean> {
  const giveUpAt = Date.now() + guardMs
  while (!done()) {
    if (Date.now() > giveUpAt) return false
    await sleep(POLL_MS)
  }
  return true
}

/** Waits until `count` has not changed for QUIET_MS: the farm has nothing more to say. */
async function waitQuiet (count: () => number): Promise<void> {
  let last = count()
  let since = Date.now()
  while (Date.now() - since < QUIET_MS) {
    await sleep(POLL_MS)
    const now = count()
    if (now !== last) {
      last = now
      since = Date.now()
    }
  }
}
