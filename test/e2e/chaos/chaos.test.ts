/**
 * The chaos suite in CI: one short seeded run (run-chaos.ts) of five real nodes on hosts of
 * their own, a 200-frame fake-renderer job and a real-Blender job, under kill -9 and
 * restart, link cuts, SIGSTOP/SIGCONT, full scratch disks and read-only targets. Each
 * promise of issue 12 is its own test of that one run, so a failure names the promise.
 * `npm run chaos -- --minutes 60 --seed N` runs the same for longer, with every fault kind.
 *
 * Three promises fail today and are marked `failing` until their fixes land (ava then
 * reports them as passing and the mark must go): a woken, cut-off or killed holder's late
 * copy overwrites frames another node already delivered; a copy cut short by SIGKILL leaves
 * its temporary files at the target; a read-only target crashes the node (the run restarts
 * crashed nodes, as a service manager would, so the other promises are still judged).
 */
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { figures } from './figures.js'
import type { FaultKind } from './faults.js'
import { DEFAULT_CHAOS, runChaos, type ChaosReport } from './run-chaos.js'

/** Fixed, so CI replays one schedule; `npm run chaos` picks a new one each run. */
const CI_SEED = 20_261_202
/** About three minutes in all on two cores, with set-up and the finish. */
const CI_CHAOS_MS = 90_000
/**
 * Store deletion and damage are left to `npm run chaos` until a node recovers from them
 * (issue 12, deliverables 1 and 2): today they make nodes redo finished blocks.
 */
const CI_FAULTS: readonly FaultKind[] = ['kill', 'link-cut', 'stop', 'scratch-full', 'target-readonly']

/** A guard against a hung run, not a deadline under test. */
const RUN_GUARD_MS = 12 * 60_000

let running: Promise<ChaosReport> | undefined

/** The one run every test below judges, started by whichever asks first. */
async function run (t: ExecutionContext): Promise<ChaosReport> {
  t.timeout(RUN_GUARD_MS)
  running ??= runChaos({ ...DEFAULT_CHAOS, seed: CI_SEED, chaosMs: CI_CHAOS_MS, faults: CI_FAULTS, renderersDieWithNode: false })
  return running
}

test('the run injected faults of every kind it was given', async (t) => {
  const report = await run(t)
  t.log(figures(report))
  for (const kind of CI_FAULTS) t.true(report.faults[kind].injected > 0, `no ${kind} fault injected`)
})

// A read-only target kills the node today: the copy's rollback unlinks its temporary files, gets
// EROFS, and the error escapes renderBlock as an unhandled rejection (issue 12, deliverable 7).
test.failing('no node crashes (issue 12, deliverable 7)', async (t) => {
  t.deepEqual((await run(t)).crashes, [])
})

test('every job is DONE once the faults are healed', async (t) => {
  const report = await run(t)
  t.deepEqual(report.failures.filter((failure) => failure.startsWith('not every job DONE')), [])
  t.true(report.jobs >= 2)
})

test('every frame is at its target and whole', async (t) => {
  const report = await run(t)
  for (const target of report.targets) {
    t.deepEqual(target.missing, [], `${target.label}: missing frames`)
    t.deepEqual(target.broken, [], `${target.label}: frames not whole`)
  }
  t.is(report.framesDelivered, report.framesExpected)
})

test('every peer has the same state hash, every event, and a store that checks', async (t) => {
  const { peers } = await run(t)
  const [observer, ...nodes] = peers
  if (observer === undefined) return t.fail('no peer states read')
  t.is(nodes.length, DEFAULT_CHAOS.nodes)
  for (const peer of peers) t.true(peer.check.consistent, `${peer.name}: store check inconsistent`)
  for (const node of nodes) {
    t.is(node.stateHash, observer.stateHash, `${node.name}: state hash`)
    t.deepEqual(node.vv, observer.vv, `${node.name}: events held`)
  }
})

test.failing('no frame is written twice (issue 12, deliverables 3 and 4)', async (t) => {
  t.deepEqual((await run(t)).duplicates, [])
})

test.failing('nothing but frames is left at the targets (issue 12, deliverable 3)', async (t) => {
  for (const target of (await run(t)).targets) t.deepEqual(target.litter, [], `${target.label}: stray files`)
})
