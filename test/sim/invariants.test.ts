/**
 * The invariant checks bite: recordings made by hand, each with one breach (a second
 * finish, a render of a DONE block, an overlap just past the settle window, a holder
 * declared dead though heard alive, a halted job rendering on, a retried block never
 * rendered again), are flagged; the same recordings with the fault that excuses them, or
 * just inside the bound, are not.
 */
import test from 'ava'
import { CLAIM_SETTLE_MS } from '../../src/protocol/scheduling.js'
import { DEAD_AFTER_SILENCE_MS } from '../../src/protocol/liveness.js'
import type { FarmView } from '../../src/protocol/view.js'
import { checkExclusive, checkRedone, checkSteering, falseDeaths, steerStopBoundMs } from './invariants.js'
import { profileNamed } from './profiles.js'
import { Recorder } from './recorder.js'

const lan = profileNamed('clean')
const lossy = profileNamed('lossy')
const label = (node: string): string => node
const JOB = '0190a4f2-7d3c-8b1e-9f00-1234567890ab'
const block = (index: number, epoch: number) => ({ jobId: JOB, block: index, epoch })
const EMPTY: FarmView = { jobs: [], nodes: [], founder: null, wranglers: [] }

function render (recorder: Recorder, node: string, target: ReturnType<typeof block>, startMs: number, endMs: number): void {
  recorder.renderStarted(node, target, startMs)
  recorder.renderEnded(node, endMs)
}

test('a second finish of a block, at another epoch, fails the run; so does a render of it after it was done', (t) => {
  const recorder = new Recorder()
  render(recorder, 'a', block(0, 1), 0, 2_000)
  recorder.finished('a', block(0, 1), 2_000)
  render(recorder, 'b', block(0, 2), 3_000, 5_000)
  recorder.finished('b', block(0, 2), 5_000)
  const violations = checkRedone(recorder, lan, label)
  t.is(violations.length, 2)
  t.regex(violations[0] ?? '', /finished again by b \(epoch 2\) at 5000 ms after a finished it \(epoch 1\) at 2000 ms/)
  t.regex(violations[1] ?? '', /b rendered block .*\/0 \(epoch 2\) for 2000 ms after a finished it/)
})

test('a block finished twice by one node fails the run, even at one epoch', (t) => {
  const recorder = new Recorder()
  recorder.finished('a', block(0, 1), 2_000)
  recorder.finished('a', block(0, 1), 2_500)
  t.is(checkRedone(recorder, lan, label).length, 1)
})

test('a second finish by a node cut off from the first finisher all along is excused; one finish is not flagged', (t) => {
  const recorder = new Recorder()
  recorder.partitions.push({ island: new Set(['b']), startMs: 0, endMs: 6_000 })
  render(recorder, 'a', block(0, 1), 0, 2_000)
  recorder.finished('a', block(0, 1), 2_000)
  render(recorder, 'b', block(0, 2), 3_000, 5_000)
  recorder.finished('b', block(0, 2), 5_000)
  t.deepEqual(checkRedone(recorder, lan, label), [])
  recorder.finished('c', block(1, 1), 1_000)
  t.deepEqual(checkRedone(recorder, lan, label), [])
})

test('a finish still on its way when a partition cut its finisher off excuses a second finish across the cut; one sent well before does not', (t) => {
  const secondFinish = (partitionMs: number): string[] => {
    const recorder = new Recorder()
    recorder.partitions.push({ island: new Set(['b']), startMs: partitionMs, endMs: 8_000 })
    recorder.finished('a', block(0, 1), 1_000)
    recorder.finished('b', block(0, 2), 5_000)
    return checkRedone(recorder, lan, label)
  }
  // On the LAN a push arrives within 3 × 20 ms (a reordered one is pulled in a round trip).
  t.deepEqual(secondFinish(1_050), [], 'the cut came before the push could arrive')
  t.is(secondFinish(1_100).length, 1, 'the push had arrived before the cut')
})

test('two healthy connected nodes rendering one block past the settle window fail the run; within it they do not', (t) => {
  const overlapping = (ms: number): string[] => {
    const recorder = new Recorder()
    render(recorder, 'a', block(0, 1), 0, 5_000)
    render(recorder, 'b', block(0, 1), 5_000 - ms, 9_000)
    return checkExclusive(recorder, lossy, label).violations
  }
  t.deepEqual(overlapping(CLAIM_SETTLE_MS), [])
  const [violation, ...rest] = overlapping(CLAIM_SETTLE_MS + 1)
  t.deepEqual(rest, [])
  t.regex(violation ?? '', new RegExp(`for ${CLAIM_SETTLE_MS + 1} ms .* \\(allowed ${CLAIM_SETTLE_MS} ms\\)`))
})

test('an overlap while one node was paused is excused', (t) => {
  const recorder = new Recorder()
  render(recorder, 'a', block(0, 1), 0, 5_000)
  recorder.fault('a', 'hang', 1_000)
  recorder.recovered('a', 4_900)
  render(recorder, 'b', block(0, 2), 1_500, 9_000)
  t.deepEqual(checkExclusive(recorder, lan, label).violations, [])
})

test('a holder declared dead though its heartbeat reached the judge while it hailed fails the run, in a lossy profile too', (t) => {
  const atMs = 10_000
  const judged = (heardAtMs: number | null): string[] => {
    const recorder = new Recorder()
    if (heardAtMs !== null) recorder.delivered('holder', 'judge', heardAtMs)
    recorder.declared('judge', 'holder', atMs)
    return falseDeaths(recorder, label)
  }
  t.is(judged(atMs - 500).length, 1)
  t.deepEqual(judged(null), [], 'every message lost: the judge heard nothing, the verdict is honest')
  t.deepEqual(judged(atMs - DEAD_AFTER_SILENCE_MS), [], 'heard before the hail: that silence is what started it')
})

test('a holder declared dead while it was paused is no false death', (t) => {
  const recorder = new Recorder()
  recorder.fault('holder', 'hang', 5_000)
  recorder.delivered('holder', 'judge', 9_500)
  recorder.declared('judge', 'holder', 10_000)
  t.deepEqual(falseDeaths(recorder, label), [])
})

test('a halted job rendering past the stop bound, or claimed after it, fails the run; one that stops in time does not', (t) => {
  const boundMs = steerStopBoundMs(lan)
  const halted = (stopAtMs: number, claimAtMs: number | null): string[] => {
    const recorder = new Recorder()
    recorder.steering.push({ kind: 'halt', jobId: JOB, author: 'wrangler', authorized: true, atMs: 1_000 })
    render(recorder, 'a', block(0, 1), 0, stopAtMs)
    if (claimAtMs !== null) recorder.claimed('b', block(1, 1), claimAtMs)
    recorder.steering.push({ kind: 'resume', jobId: JOB, author: 'wrangler', authorized: true, atMs: 8_000 })
    return checkSteering(recorder, lan, EMPTY, label)
  }
  t.deepEqual(halted(1_000 + boundMs, null), [])
  t.deepEqual(halted(1_000, 8_500), [], 'claimed again after the resume')
  t.regex(halted(1_000 + boundMs + 40, null)[0] ?? '', /a rendered block .* for 40 ms past/)
  t.regex(halted(1_000, 3_000)[0] ?? '', /b claimed block 1 of job 0190a4f2 at 3000 ms after wrangler's halt/)
})

test('a halt by someone who may not steer the job must change nothing', (t) => {
  const recorder = new Recorder()
  recorder.steering.push({ kind: 'halt', jobId: JOB, author: 'outsider', authorized: false, atMs: 1_000 })
  render(recorder, 'a', block(0, 1), 0, 5_000)
  t.deepEqual(checkSteering(recorder, lan, EMPTY, label), [])
  recorder.stops.push({ node: 'a', target: block(0, 1), reason: 'the job was halted', atMs: 1_020 })
  t.regex(checkSteering(recorder, lan, EMPTY, label)[0] ?? '', /outsider, who may not steer job 0190a4f2, halted it: a stopped block 0/)
})

test('a retried block that never renders again fails the run', (t) => {
  const recorder = new Recorder()
  recorder.steering.push({ kind: 'retry', jobId: JOB, author: 'artist', authorized: true, atMs: 1_000, failed: [0, 1] })
  render(recorder, 'a', block(0, 3), 1_200, 3_000)
  t.deepEqual(checkSteering(recorder, lan, EMPTY, label), [`steered: block 1 of job 0190a4f2 failed and was retried at 1000 ms, but never rendered again`])
})
