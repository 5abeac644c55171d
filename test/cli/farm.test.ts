/**
 * The scriptable CLI against a farm of real processes in the test's network namespace:
 * one render node stand-in (test/fixtures/cli/render-node.ts) and `cr` commands, each a
 * short-lived controller with its own data directory. What one controller writes another
 * reads, which shows a write returns only once a peer of the farm has stored it; and a
 * change that is not the caller's to make (roles) is refused before anything is written.
 */
import { randomUUID } from 'node:crypto'
import anyTest, { type TestFn } from 'ava'
import { loadIdentity } from '../../src/node/identity.js'
import { EventStore, storeDirOf } from '../../src/node/store/event-store.js'
import type { EventBody } from '../../src/protocol/events.js'
import { signerFromKey } from '../../src/protocol/signing.js'
import { eventCount } from '../../src/protocol/version-vector.js'
import type { JobView, NodeView } from '../../src/protocol/view.js'
import { FOUNDING_CONTROLLER, stateOf } from '../helpers/mesh-testbed.js'
import { waitUntil } from '../helpers/peer-process.js'
import { controllerDir, crAt, spawnCr, startCliFarm, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot010.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

/** Submits a job through controller `controller` and returns its full id. */
async function submit (farm: Farm, controller: string, extra: readonly string[] = []): Promise<string> {
  const result = await crAt(farm.bed, controller, [
    'submit', '--name', 'shot010_beauty', '--project', 'feature', '--software', 'blender',
    '--scene', farm.scene, '--target', '/renders/shot010', '--frames', '1-4', '--block-size', '2', ...extra
  ])
  if (result.exitCode !== 0) throw new Error(`submit failed (${result.exitCode}): ${result.stderr}`)
  const match = /job ([0-9a-f]{8}) \(([0-9a-f-]{36})\)/.exec(result.stdout)
  if (match?.[2] === undefined) throw new Error(`no job id in ${result.stdout}`)
  return match[2]
}

async function show (farm: Farm, controller: string, job: string): Promise<JobView> {
  const result = await crAt(farm.bed, controller, ['job', 'show', '--json', job])
  if (result.exitCode !== 0) throw new Error(`job show failed (${result.exitCode}): ${result.stderr}`)
  return JSON.parse(result.stdout) as JobView
}

/** The render node writes `bodies` and the test waits until it holds them. */
async function nodeWrites (farm: Farm, bodies: readonly EventBody[]): Promise<void> {
  await farm.node.request('append', { bodies })
}

test.serial('a job submitted by one controller is listed by another, for scripts and for people', async (t) => {
  const id = await submit(t.context, 'artist-a')
  const json = await crAt(t.context.bed, 'artist-b', ['jobs', '--json'])
  t.is(json.exitCode, 0)
  const jobs = JSON.parse(json.stdout) as JobView[]
  t.like(jobs.find((job) => job.id === id), { name: 'shot010_beauty', status: 'QUEUE', framesTotal: 4, enabled: true })
  const human = await crAt(t.context.bed, 'artist-c', ['jobs'])
  t.regex(human.stdout, new RegExp(`^ID +NAME +STATUS[\\s\\S]*${id.slice(0, 8)} +shot010_beauty +QUEUE +ENABLED`, 'm'))
})

test.serial('a job file submits with flags on top, and the job shows its blocks', async (t) => {
  const id = await submit(t.context, 'artist-a', ['--file', 'test/fixtures/cli/job.toml', '--name', 'from_file'])
  const job = await show(t.context, 'artist-b', id.slice(0, 6))
  t.like(job, { name: 'from_file', classification: 'B', priority: 40, frameStart: 1, frameEnd: 4 })
  t.is(job.blocks.length, 2)
  const human = await crAt(t.context.bed, 'artist-b', ['job', 'show', id])
  // Blocks never claimed fold into one row (see cr job show).
  t.regex(human.stdout, /BLOCK +FRAMES +STATUS +TIME +HOLDER +EPOCH +ATTEMPTS +LAST FAILURE\n0-1 +1-4 +QUEUE/)
})

test.serial('halt, resume, priority, disable, enable, retry and delete change what job show reports', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'wrangler')
  const steer = async (...args: string[]): Promise<void> => {
    const result = await crAt(farm.bed, 'wrangler', ['job', ...args])
    t.is(result.exitCode, 0, result.stderr)
  }
  await steer('halt', id)
  t.like(await show(farm, 'watcher', id), { status: 'HALT', halted: true })
  await steer('resume', id.slice(0, 8))
  t.like(await show(farm, 'watcher', id), { status: 'QUEUE', halted: false })
  await steer('priority', id, '90')
  t.like(await show(farm, 'watcher', id), { priority: 90 })
  await steer('disable', id)
  t.like(await show(farm, 'watcher', id), { enabled: false })
  await steer('enable', id)
  t.like(await show(farm, 'watcher', id), { enabled: true })

  // The node fails block 0 once; a retry counts its attempts afresh.
  await nodeWrites(farm, [
    { type: 'block.claimed', jobId: id, block: 0, epoch: 1 },
    { type: 'block.failed', jobId: id, block: 0, epoch: 1, failure: 'retryable', message: 'renderer crashed', outputTail: ['segfault'] }
  ])
  t.like((await show(farm, 'watcher', id)).blocks[0], { attempts: 1, lastFailure: { failure: 'retryable', message: 'renderer crashed' } })
  await steer('retry', id)
  t.like((await show(farm, 'watcher', id)).blocks[0], { attempts: 0, lastFailure: null })

  await steer('delete', id)
  const gone = await crAt(farm.bed, 'watcher', ['job', 'show', id])
  t.is(gone.exitCode, 1)
  t.regex(gone.stderr, /no job/)
})

test.serial('an invalid priority exits 2 naming the field, and writes nothing', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'artist-a')
  const before = eventCount((await stateOf(farm.node)).vv)
  const result = await crAt(farm.bed, 'artist-a', ['job', 'priority', id, '120'])
  t.is(result.exitCode, 2)
  // The field as the command names it, not the event's inner path (changes.priority).
  t.is(result.stderr, 'cr: invalid priority: priority 120 is above 99')
  t.is(eventCount((await stateOf(farm.node)).vv), before)
})

test.serial('cr node set, block and unblock change the client table', async (t) => {
  const farm = t.context
  const set = await crAt(farm.bed, 'wrangler', [
    'node', 'set', 'render-01', '--threads', '8', '--work-threads', '2', '--memory', 'unlimited', '--work-memory', '16384',
    '--classes', 'A,B', '--schedule', 'mon-fri 09:00-18:00 work-hours; sat,sun 00:00-24:00 no-render'
  ])
  t.is(set.exitCode, 0, set.stderr)
  await crAt(farm.bed, 'wrangler', ['node', 'block', 'render-01'])
  const nodes = async (): Promise<(NodeView & { status: string })[]> =>
    JSON.parse((await crAt(farm.bed, 'watcher', ['nodes', '--json'])).stdout) as (NodeView & { status: string })[]
  t.like((await nodes()).find((node) => node.name === 'render-01'), {
    id: farm.node.id,
    status: 'STANDBY',
    blocked: true,
    threadLimit: 8,
    workThreadLimit: 2,
    memoryLimitMb: -1,
    workMemoryLimitMb: 16384,
    classifications: ['A', 'B'],
    schedule: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', mode: 'work-hours' },
      { days: ['sat', 'sun'], start: '00:00', end: '24:00', mode: 'no-render' }
    ]
  })
  await crAt(farm.bed, 'wrangler', ['node', 'unblock', 'render-01'])
  t.like((await nodes()).find((node) => node.name === 'render-01'), { blocked: false })
  const human = await crAt(farm.bed, 'watcher', ['nodes'])
  t.regex(human.stdout, /^render-01 +STANDBY +- +- +no +unlimited +8 +16384 MB +2 +AB +mon,tue,wed,thu,fri 09:00-18:00 work-hours/m)
})

test.serial('unknown jobs and nodes fail with exit 1, and nothing is written', async (t) => {
  const farm = t.context
  const before = eventCount((await stateOf(farm.node)).vv)
  const node = await crAt(farm.bed, 'newcomer', ['node', 'block', 'render-99'])
  t.is(node.exitCode, 1)
  t.regex(node.stderr, /no node "render-99"/)
  const job = await crAt(farm.bed, 'newcomer', ['job', 'halt', randomUUID()])
  t.is(job.exitCode, 1)
  t.regex(job.stderr, /no job/)
  const logs = await crAt(farm.bed, 'newcomer', ['logs', '--node', 'render-99'])
  t.is(logs.exitCode, 1)
  t.is(eventCount((await stateOf(farm.node)).vv), before)
  // The controller caught up, but its own feed is empty.
  const dataDir = controllerDir(farm.bed, 'newcomer')
  const store = await EventStore.open(storeDirOf(dataDir), signerFromKey(await loadIdentity(dataDir, { create: false })))
  t.is(store.versionVector()[store.author], undefined)
  await store.close()
})

test.serial('cr logs --job shows the job\'s rows with the node\'s name and the renderer\'s output', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'artist-a')
  await nodeWrites(farm, [
    { type: 'block.claimed', jobId: id, block: 1, epoch: 1 },
    { type: 'block.started', jobId: id, block: 1, epoch: 1 },
    { type: 'block.failed', jobId: id, block: 1, epoch: 1, failure: 'retryable', message: 'exit code 1', outputTail: ['Error: out of licences'] }
  ])
  const human = await crAt(farm.bed, 'artist-b', ['logs', '--job', id.slice(0, 8)])
  t.is(human.exitCode, 0, human.stderr)
  const lines = human.stdout.split('\n')
  t.regex(lines[0] ?? '', /submitted shot010_beauty/)
  t.regex(lines[1] ?? '', /render-01 +[0-9a-f]{8} +claimed block 1 \(epoch 1\)/)
  t.regex(human.stdout, /render-01 +[0-9a-f]{8} +block 1 failed \(retryable\): exit code 1\n {4}\| Error: out of licences/)
  const json = await crAt(farm.bed, 'artist-b', ['logs', '--json', '--job', id, '--node', 'render-01'])
  const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { clientName: string, jobId: string, description: string })
  t.deepEqual(rows.map((row) => row.description), ['claimed block 1 (epoch 1)', 'started rendering block 1 (epoch 1)', 'block 1 failed (retryable): exit code 1'])
  t.true(rows.every((row) => row.clientName === 'render-01' && row.jobId === id))
})

test.serial('cr logs --follow prints a new row as it arrives and exits 0 on Ctrl+C', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'artist-a')
  const follower = spawnCr(farm.bed, 'follower', ['logs', '--follow', '--job', id])
  let out = ''
  follower.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await waitUntil(() => Promise.resolve(out.includes('submitted shot010_beauty') ? true : undefined), 'the follower to print the existing rows')
  await nodeWrites(farm, [{ type: 'log.recorded', clientName: 'render-01', jobId: id, block: 0, description: 'licence checked out', outputTail: [] }])
  await waitUntil(() => Promise.resolve(out.includes('licence checked out') ? true : undefined), 'the follower to print the new row')
  follower.kill('SIGINT')
  const result = await follower
  t.is(result.exitCode, 0, result.stderr)
  t.regex(out, /render-01 +[0-9a-f]{8} +licence checked out/)
})

test.serial('an artist steers its own jobs only; the founder makes a wrangler, who steers every job', async (t) => {
  const farm = t.context
  const job = await submit(farm, 'artist-a')
  const before = eventCount((await stateOf(farm.node)).vv)
  const refused = await crAt(farm.bed, 'artist-b', ['job', 'priority', job, '90'])
  t.is(refused.exitCode, 5)
  t.regex(refused.stderr, /not allowed: a job may be steered only by the peer that submitted it or a wrangler/)
  t.is(eventCount((await stateOf(farm.node)).vv), before, 'nothing was written')

  const own = await crAt(farm.bed, 'artist-a', ['job', 'priority', job, '60'])
  t.is(own.exitCode, 0, own.stderr)
  t.is((await show(farm, 'watcher', job)).priority, 60)

  const notYet = await crAt(farm.bed, 'artist-b', ['wrangler', 'add', 'render-01'])
  t.is(notYet.exitCode, 5, 'only the founder or a wrangler grants the role')
  const artistB = (await crAt(farm.bed, 'artist-b', ['whoami'])).stdout.trim()
  const granted = await crAt(farm.bed, FOUNDING_CONTROLLER, ['wrangler', 'add', artistB])
  t.is(granted.exitCode, 0, granted.stderr)
  const list = JSON.parse((await crAt(farm.bed, 'watcher', ['wrangler', 'list', '--json'])).stdout) as { peer: string, founder: boolean }[]
  t.deepEqual(list.map((row) => row.founder), [true, false])
  t.is(list[1]?.peer, artistB)

  const steered = await crAt(farm.bed, 'artist-b', ['job', 'priority', job, '90'])
  t.is(steered.exitCode, 0, steered.stderr)
  t.is((await show(farm, 'watcher', job)).priority, 90)

  const revoked = await crAt(farm.bed, FOUNDING_CONTROLLER, ['wrangler', 'remove', artistB])
  t.is(revoked.exitCode, 0, revoked.stderr)
  t.is((await crAt(farm.bed, 'artist-b', ['job', 'priority', job, '10'])).exitCode, 5)
  t.is((await show(farm, 'watcher', job)).priority, 90, 'what the wrangler did stands')
})
