/**
 * The verbs a wrangler expects, as real CLI processes against a farm of render node
 * stand-ins: jobs named by their name, a DONE job or a frame range rendered again, a job
 * cloned, a decommissioned node removed, `--watch` listings, log rows that name who
 * wrote them, and node names kept unique.
 */
import anyTest, { type TestFn } from 'ava'
import type { EventBody } from '../../src/protocol/events.js'
import type { JobView, NodeView } from '../../src/protocol/view.js'
import { waitUntil } from '../helpers/peer-process.js'
import { crAt, spawnCr, startCliFarm, startRenderNode, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot030.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

async function submit (farm: Farm, name: string): Promise<string> {
  const result = await crAt(farm.bed, 'artist', [
    'submit', '--name', name, '--project', 'feature', '--user', 'maria', '--software', 'blender',
    '--scene', farm.scene, '--target', '/renders/shot030', '--frames', '1-4', '--block-size', '2'
  ])
  if (result.exitCode !== 0) throw new Error(`submit failed (${result.exitCode}): ${result.stderr}`)
  const match = /\(([0-9a-f-]{36})\)/.exec(result.stdout)
  if (match?.[1] === undefined) throw new Error(`no job id in ${result.stdout}`)
  return match[1]
}

async function show (farm: Farm, ref: string): Promise<JobView> {
  const result = await crAt(farm.bed, 'watcher', ['job', 'show', '--json', ref])
  if (result.exitCode !== 0) throw new Error(`job show failed (${result.exitCode}): ${result.stderr}`)
  return JSON.parse(result.stdout) as JobView
}

async function nodeWrites (farm: Farm, bodies: readonly EventBody[]): Promise<void> {
  await farm.node.request('append', { bodies })
}

function rendered (jobId: string, block: number, epoch: number): EventBody[] {
  return [
    { type: 'block.claimed', jobId, block, epoch },
    { type: 'block.finished', jobId, block, epoch, wallMs: 2000, frameMs: [1000, 1000] }
  ]
}

test.serial('a job is named by its name when no other job has it; a shared name is refused with the candidates', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'hero_comp')
  t.is((await show(farm, 'hero_comp')).id, id)
  const twin = await submit(farm, 'hero_comp')
  const ambiguous = await crAt(farm.bed, 'watcher', ['job', 'show', 'hero_comp'])
  t.is(ambiguous.exitCode, 1)
  t.true(ambiguous.stderr.includes(`"hero_comp" names 2 jobs (${id.replaceAll('-', '').slice(0, 8)} hero_comp, ${twin.replaceAll('-', '').slice(0, 8)} hero_comp)`), ambiguous.stderr)
  for (const job of [id, twin]) await crAt(farm.bed, 'artist', ['job', 'delete', job])
})

test.serial('cr job rerender renders a DONE job again, or the blocks holding --frames; log rows name the artist\'s user', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'shot030_again')
  await nodeWrites(farm, [...rendered(id, 0, 1), ...rendered(id, 1, 1)])
  t.is((await show(farm, id)).status, 'DONE')
  const some = await crAt(farm.bed, 'artist', ['job', 'rerender', 'shot030_again', '--frames', '3-4'])
  t.is(some.exitCode, 0, some.stderr)
  t.is(some.stdout.trim(), `re-render: job ${id.replaceAll('-', '').slice(0, 8)} (shot030_again)`)
  t.like(await show(farm, id), { status: 'QUEUE', framesDone: 2, blocks: [{ status: 'DONE' }, { status: 'QUEUE', retryAsked: true }] })
  const outside = await crAt(farm.bed, 'artist', ['job', 'rerender', id, '--frames', '7-9'])
  t.is(outside.exitCode, 2)
  t.regex(outside.stderr, /7-9 is outside job [0-9a-f]{8}'s frames 1-4/)
  const refused = await crAt(farm.bed, 'stranger', ['job', 'rerender', id])
  t.is(refused.exitCode, 5, 'only its owner or a wrangler')
  const all = await crAt(farm.bed, 'wrangler', ['job', 'rerender', id])
  t.is(all.exitCode, 0, all.stderr)
  t.like(await show(farm, id), { status: 'QUEUE', framesDone: 0 })

  const logs = await crAt(farm.bed, 'watcher', ['logs', '--job', id])
  t.regex(logs.stdout, /^\S+ \S+ {2}maria +[0-9a-f]{8} {2}submitted shot030_again/m)
  t.regex(logs.stdout, /^\S+ \S+ {2}maria +[0-9a-f]{8} {2}re-render requested: frames 3-4 render again$/m)
  t.regex(logs.stdout, /^\S+ \S+ {2}render-01 +[0-9a-f]{8} {2}finished block 1/m)
  await crAt(farm.bed, 'artist', ['job', 'delete', id])
})

test.serial('cr job clone submits the job again with the same fields and a new id', async (t) => {
  const farm = t.context
  const id = await submit(farm, 'shot030_clone')
  await crAt(farm.bed, 'artist', ['job', 'priority', id, '80'])
  const cloned = await crAt(farm.bed, 'artist', ['job', 'clone', id])
  t.is(cloned.exitCode, 0, cloned.stderr)
  const copy = /as job [0-9a-f]{8} \(([0-9a-f-]{36})\)/.exec(cloned.stdout)?.[1]
  if (copy === undefined) throw new Error(`no new id in ${cloned.stdout}`)
  t.not(copy, id)
  const [original, clone] = [await show(farm, id), await show(farm, copy)]
  t.like(clone, { name: original.name, user: 'maria', scenePath: original.scenePath, frameStart: 1, frameEnd: 4, blockSize: 2, priority: 80, status: 'QUEUE' })
  for (const job of [id, copy]) await crAt(farm.bed, 'artist', ['job', 'delete', job])
})

test.serial('cr jobs --watch and cr nodes --watch draw again every second until Ctrl+C, then exit 0', async (t) => {
  const farm = t.context
  for (const listing of ['jobs', 'nodes']) {
    const watcher = spawnCr(farm.bed, 'watcher', [listing, '--watch'])
    let out = ''
    watcher.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const header = listing === 'jobs' ? /^ID +NAME +STATUS/gm : /^NAME +STATUS +JOB/gm
    await waitUntil(() => Promise.resolve((out.match(header)?.length ?? 0) >= 2 ? true : undefined), `cr ${listing} --watch to draw twice`)
    watcher.kill('SIGINT')
    const result = await watcher
    t.is(result.exitCode, 0, result.stderr)
  }
})

test.serial('a node name is kept unique; a decommissioned node is removed by a wrangler, and only once it is down', async (t) => {
  const farm = t.context
  const old = await startRenderNode(farm.bed, 'render-02')
  const nodes = async (): Promise<NodeView[]> => JSON.parse((await crAt(farm.bed, 'watcher', ['nodes', '--json'])).stdout) as NodeView[]
  await waitUntil(async () => ((await nodes()).some((node) => node.name === 'render-02') ? true : undefined), 'render-02 in the client table')
  const taken = await crAt(farm.bed, 'wrangler', ['node', 'set', 'render-02', '--name', 'render-01'])
  t.is(taken.exitCode, 2)
  t.regex(taken.stderr, /node name "render-01" is taken by node \S+; choose another/)
  const up = await crAt(farm.bed, 'wrangler', ['node', 'remove', 'render-02'])
  t.is(up.exitCode, 2)
  t.regex(up.stderr, /node render-02 is up; stop it \(and its service\) before removing it/)

  await old.stop()
  const artist = await crAt(farm.bed, 'artist', ['node', 'remove', 'render-02'])
  t.is(artist.exitCode, 5, 'wranglers only')
  const removed = await crAt(farm.bed, 'wrangler', ['node', 'remove', 'render-02'])
  t.is(removed.exitCode, 0, removed.stderr)
  t.regex(removed.stdout, /^removed node render-02 \(\S+\) from the client table$/)
  t.deepEqual((await nodes()).map((node) => node.name), ['render-01'])
})
