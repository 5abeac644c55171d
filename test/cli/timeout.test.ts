/**
 * The render timeout and elapsed times through the CLI, against a render node stand-in
 * (test/fixtures/cli/render-node.ts): `cr submit --timeout-per-frame` (and the job file
 * key) sets the job's field, bad values exit 2 naming the field and the flag, and a block
 * the node renders shows how long it has run in `cr job show` and `cr nodes`.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import anyTest, { type TestFn } from 'ava'
import type { JobSpec } from '../../src/protocol/events.js'
import type { JobView } from '../../src/protocol/view.js'
import { crAt, startCliFarm, type CliFarm as Farm } from '../fixtures/cli/cr.js'

const test = anyTest as TestFn<Farm>

test.before(async (t) => {
  t.context = await startCliFarm('shot040.blend')
})

test.after.always(async (t) => {
  await t.context.bed.destroy()
})

const JOB = ['--name', 'shot040', '--project', 'feature', '--software', 'blender', '--target', '/renders/shot040', '--frames', '1-4', '--block-size', '2']

async function submit (farm: Farm, extra: readonly string[]): Promise<JobSpec> {
  const result = await crAt(farm.bed, 'artist', ['submit', '--json', '--scene', farm.scene, ...JOB, ...extra])
  if (result.exitCode !== 0) throw new Error(`submit failed (${result.exitCode}): ${result.stderr}`)
  return JSON.parse(result.stdout) as JobSpec
}

test.serial('--timeout-per-frame takes a duration and the job keeps it in seconds; the job file key takes one too', async (t) => {
  const farm = t.context
  t.is((await submit(farm, ['--timeout-per-frame', '1h30m'])).timeoutPerFrameS, 5400)
  t.is((await submit(farm, ['--timeout-per-frame', '600'])).timeoutPerFrameS, 600)
  t.false('timeoutPerFrameS' in await submit(farm, []), 'absent: the rendering node\'s default applies')
  const file = join(farm.bed.dir, 'timed.toml')
  await writeFile(file, 'timeoutPerFrameS = "2m"\n')
  const fromFile = await crAt(farm.bed, 'artist', ['submit', '--json', '--file', file, '--scene', farm.scene, ...JOB])
  t.is(fromFile.exitCode, 0, fromFile.stderr)
  t.is((JSON.parse(fromFile.stdout) as JobSpec).timeoutPerFrameS, 120)
})

test.serial('a bad --timeout-per-frame exits 2 naming the field and the flag', async (t) => {
  const farm = t.context
  const cases: readonly [string, RegExp][] = [
    ['0', /invalid timeoutPerFrameS \(--timeout-per-frame\): timeout per frame 0 s is below 1 s/],
    ['8d', /invalid timeoutPerFrameS \(--timeout-per-frame\): timeout per frame 691200 s is above 604800 s \(a week\)/],
    ['soon', /invalid timeoutPerFrameS \(--timeout-per-frame\): must be a duration such as 90s, 10m or 1h30m, or whole seconds; got "soon"/],
    ['1.5s', /invalid timeoutPerFrameS \(--timeout-per-frame\): must be a duration/]
  ]
  for (const [value, message] of cases) {
    const result = await crAt(farm.bed, 'artist', ['submit', '--scene', farm.scene, ...JOB, '--timeout-per-frame', value])
    t.is(result.exitCode, 2, `${value}: ${result.stderr}`)
    t.regex(result.stderr, message)
  }
})

test.serial('job show gives the timeout and a running block\'s time so far; cr nodes the node\'s time on its block', async (t) => {
  const farm = t.context
  const job = await submit(farm, ['--timeout-per-frame', '90s'])
  const shortId = job.id.replaceAll('-', '').slice(0, 8)
  const startedAt = Date.now()
  await farm.node.request('append', {
    bodies: [
      { type: 'block.claimed', jobId: job.id, block: 1, epoch: 1 },
      { type: 'block.started', jobId: job.id, block: 1, epoch: 1 }
    ]
  })
  await new Promise((resolve) => setTimeout(resolve, 1_100))
  const human = await crAt(farm.bed, 'wrangler', ['job', 'show', job.id])
  t.is(human.exitCode, 0, human.stderr)
  t.regex(human.stdout, /^timeout +1m30s per frame, plus the node's start-up grace$/m)
  t.regex(human.stdout, /^BLOCK +FRAMES +STATUS +TIME +HOLDER/m)
  t.regex(human.stdout, /^0 +1-2 +QUEUE +- +- /m)
  t.regex(human.stdout, /^1 +3-4 +RENDERING +\d+\.\d s so far +render-01 /m)

  const shown = JSON.parse((await crAt(farm.bed, 'wrangler', ['job', 'show', '--json', job.id])).stdout) as JobView
  const started = shown.blocks[1]?.startedAt ?? 0
  t.true(started >= startedAt - 1_000 && started <= Date.now(), `startedAt ${started} is the node's start of the block`)
  t.is(shown.blocks[0]?.startedAt, null)

  const nodes = await crAt(farm.bed, 'wrangler', ['nodes', '--json'])
  const [row] = JSON.parse(nodes.stdout) as { currentJob: string | null, elapsedMs: number | null }[]
  t.is(row?.currentJob, `${shortId} block 1`)
  t.true((row?.elapsedMs ?? 0) >= 1_000, `elapsed ${String(row?.elapsedMs)} ms`)
  const table = await crAt(farm.bed, 'wrangler', ['nodes'])
  t.regex(table.stdout, new RegExp(`^render-01 +\\S+ +${shortId} block 1 +\\d+\\.\\d s +no `, 'm'))
})
