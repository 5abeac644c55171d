/**
 * What `cr jobs`, `cr job show` and `cr nodes` say about states, as real CLI processes
 * against a farm with one render node stand-in: a job no node can run any more is ERROR
 * with the reason, not QUEUE forever; a node's ERROR and STANDBY say why; and a job of a
 * million frames shows in one screen, fast.
 */
import anyTest, { type TestFn } from 'ava'
import type { EventBody } from '../../src/protocol/events.js'
import type { JobView, NodeView } from '../../src/protocol/view.js'
import { crAt, startCliFarm, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot020.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

async function submit (farm: Farm, extra: readonly string[]): Promise<string> {
  const result = await crAt(farm.bed, 'artist', [
    'submit', '--name', 'shot020', '--project', 'feature', '--scene', farm.scene, '--target', '/renders/shot020', ...extra
  ])
  if (result.exitCode !== 0) throw new Error(`submit failed (${result.exitCode}): ${result.stderr}`)
  const match = /\(([0-9a-f-]{36})\)/.exec(result.stdout)
  if (match?.[1] === undefined) throw new Error(`no job id in ${result.stdout}`)
  return match[1]
}

async function nodeWrites (farm: Farm, bodies: readonly EventBody[]): Promise<void> {
  await farm.node.request('append', { bodies })
}

async function failBlock (farm: Farm, jobId: string, block: number, message: string): Promise<void> {
  await nodeWrites(farm, [
    { type: 'block.claimed', jobId, block, epoch: 1 },
    { type: 'block.failed', jobId, block, epoch: 1, failure: 'retryable', message, outputTail: [] }
  ])
}

type NodeRow = NodeView & { readonly status: string, readonly statusReason: string | null }

async function nodeRow (farm: Farm): Promise<NodeRow | undefined> {
  const result = await crAt(farm.bed, 'watcher', ['nodes', '--json'])
  return (JSON.parse(result.stdout) as NodeRow[]).find((node) => node.name === 'render-01')
}

test.serial('a job its only node failed twice is ERROR with the reason in cr jobs and cr job show; the node says why it is ERROR', async (t) => {
  const farm = t.context
  const id = await submit(farm, ['--software', 'blender', '--frames', '1-3', '--block-size', '1', '--max-retries', '5'])
  await failBlock(farm, id, 0, 'renderer crashed (signal SIGSEGV)')
  await failBlock(farm, id, 1, 'out of memory')
  const reason = 'every node that can run it failed it 2 times (cr job retry runs it again): last failure on render-01 (block 1): out of memory'

  const jobs = await crAt(farm.bed, 'watcher', ['jobs'])
  t.is(jobs.exitCode, 0, jobs.stderr)
  t.regex(jobs.stdout, new RegExp(`^${id.slice(0, 8)} +shot020 +ERROR .*${escape(reason)}$`, 'm'))
  const shown = await crAt(farm.bed, 'watcher', ['job', 'show', id])
  t.regex(shown.stdout, new RegExp(`^status +ERROR\n[\\s\\S]*^error +${escape(reason)}$`, 'm'))
  const json = JSON.parse((await crAt(farm.bed, 'watcher', ['job', 'show', '--json', id])).stdout) as JobView
  t.like(json, { status: 'ERROR', error: reason, lastFailure: { block: 1, message: 'out of memory' } })

  const node = await nodeRow(farm)
  t.like(node, { status: 'ERROR', statusReason: `last block failed: job ${id.slice(0, 8)} block 1: out of memory` })
  const nodes = await crAt(farm.bed, 'watcher', ['nodes'])
  t.regex(nodes.stdout, new RegExp(`^render-01 +ERROR .* last block failed: job ${id.slice(0, 8)} block 1: out of memory$`, 'm'))

  // A node starts by restating what it runs: its ERROR was its last run's.
  await nodeWrites(farm, [{ type: 'node.settings', node: farm.node.id, changes: { software: ['blender', 'procedural'] } }])
  t.like(await nodeRow(farm), { status: 'STANDBY', statusReason: null })
  t.is((await crAt(farm.bed, 'artist', ['job', 'retry', id])).exitCode, 0)
  t.like(JSON.parse((await crAt(farm.bed, 'watcher', ['job', 'show', '--json', id])).stdout) as JobView, { status: 'QUEUE', error: null })
  await crAt(farm.bed, 'artist', ['job', 'delete', id])
})

test.serial('a job of software no node runs is ERROR at once, saying so', async (t) => {
  const farm = t.context
  const id = await submit(farm, ['--software', 'nuke', '--frames', '1-2'])
  const json = JSON.parse((await crAt(farm.bed, 'watcher', ['jobs', '--json'])).stdout) as JobView[]
  t.like(json.find((job) => job.id === id), { status: 'ERROR', error: 'no node can run nuke (none lists it in its [render] software, or it is not installed)' })
  await crAt(farm.bed, 'artist', ['job', 'delete', id])
})

test.serial('a blocked node is STANDBY and says who blocked it', async (t) => {
  const farm = t.context
  t.is((await crAt(farm.bed, 'wrangler', ['node', 'block', 'render-01'])).exitCode, 0)
  const wrangler = (await crAt(farm.bed, 'wrangler', ['whoami'])).stdout.trim()
  t.like(await nodeRow(farm), { status: 'STANDBY', blocked: true, blockedBy: wrangler, statusReason: `blocked by ${wrangler.slice(-8)}` })
  t.is((await crAt(farm.bed, 'wrangler', ['node', 'unblock', 'render-01'])).exitCode, 0)
  t.like(await nodeRow(farm), { status: 'STANDBY', blocked: false, blockedBy: null, statusReason: null })
})

test.serial('a job of a million frames in 50,000 blocks shows in one screen: untouched blocks fold into one row', async (t) => {
  const farm = t.context
  const id = await submit(farm, ['--software', 'blender', '--frames', '1-1000000', '--block-size', '20'])
  await nodeWrites(farm, [
    { type: 'block.claimed', jobId: id, block: 2, epoch: 1 },
    { type: 'block.finished', jobId: id, block: 2, epoch: 1, wallMs: 2000, frameMs: Array.from({ length: 20 }, () => 100) }
  ])
  const shown = await crAt(farm.bed, 'watcher', ['job', 'show', id])
  t.is(shown.exitCode, 0, shown.stderr)
  const rows = shown.stdout.split('\n').slice(shown.stdout.split('\n').findIndex((line) => line.startsWith('BLOCK')) + 1)
  t.deepEqual(rows.map((row) => row.split(/ {2,}/).slice(0, 3)), [['0-1', '1-40', 'QUEUE'], ['2', '41-60', 'DONE'], ['3-49999', '61-1000000', 'QUEUE']])
  const json = JSON.parse((await crAt(farm.bed, 'watcher', ['job', 'show', '--json', id])).stdout) as JobView
  t.is(json.blocks.length, 50_000)
  t.is(json.framesDone, 20)
  await crAt(farm.bed, 'artist', ['job', 'delete', id])
})

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
