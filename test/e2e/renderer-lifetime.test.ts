/**
 * A renderer lives and stops with its node, in real `cr node` processes rendering with
 * the fake renderer (test/fixtures/render/fake-renderer), which forks a helper: a SIGSTOP
 * of the node stops the renderer and its helper, a SIGCONT runs them again, and after a
 * SIGKILL of the node none of them is left after 2 s. A render's processes are found by
 * their mark: the TMPDIR the node gives every render, inside this node's scratch folder.
 *
 * And the render timeout: a renderer that hangs fails its block as retryable `timeout`
 * within its limit (frames × the job's per-frame timeout, plus the node's grace), and the
 * node goes on to render the next job.
 */
import { access, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test from 'ava'
import type { JobFields } from '../../src/protocol/events.js'
import type { FarmView } from '../../src/protocol/view.js'
import { jobSpec } from '../helpers/farm-events.js'
import { RenderFarm } from '../helpers/render-farm.js'
import { FAKE_RENDERER, fakeScene } from '../fixtures/render/helpers.js'

/** Well inside the 2 s a stopped or killed node's renderer may take to follow it. */
const FOLLOW_MS = 2_000

interface Proc {
  readonly pid: number
  readonly state: string
}

/** Live processes (not zombies) whose environment carries TMPDIR inside `scratchDir`. */
async function renderProcesses (scratchDir: string): Promise<Proc[]> {
  const mark = `TMPDIR=${scratchDir}${path.sep}`
  const found: Proc[] = []
  for (const name of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    try {
      const environ = await readFile(`/proc/${name}/environ`, 'latin1')
      if (!environ.split('\0').some((entry) => entry.startsWith(mark))) continue
      const stat = await readFile(`/proc/${name}/stat`, 'latin1')
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?'
      if (state !== 'Z') found.push({ pid: Number(name), state })
    } catch (error) {
      // Gone meanwhile, or not ours to read: not a render of this test's node.
      if (!['ENOENT', 'ESRCH', 'EACCES'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
    }
  }
  return found
}

/** Polls until `check` holds of the render's processes; returns how long it took, or fails after `withinMs`. */
async function within (withinMs: number, scratchDir: string, check: (procs: Proc[]) => boolean): Promise<{ ms: number, procs: Proc[] }> {
  const started = performance.now()
  for (;;) {
    const procs = await renderProcesses(scratchDir)
    const ms = performance.now() - started
    if (check(procs)) return { ms, procs }
    if (ms > withinMs) throw new Error(`not within ${withinMs} ms: ${JSON.stringify(procs)}`)
    await sleep(25)
  }
}

async function until (file: string): Promise<void> {
  for (;;) {
    try {
      await access(file)
      return
    } catch {
      await sleep(50)
    }
  }
}

const MAYA = { render: { executables: { maya: FAKE_RENDERER }, software: ['maya-software'], timeoutGrace: '1s' } }

function mayaJob (farm: RenderFarm, fields: Partial<JobFields>): JobFields {
  return jobSpec({ software: 'maya-software', targetPath: path.join(farm.dir, 'frames', fields.name ?? 'job'), frameStart: 1, frameEnd: 4, blockSize: 4, imageName: 'shot', maxRetries: 0, ...fields })
}

test.serial('the renderer stops and runs on with its node, and is gone within 2 s of the node\'s SIGKILL', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const node = await farm.startNode('render-01', MAYA)
  const scratchDir = path.join(farm.dir, 'render-01', 'scratch')
  const childPidFile = path.join(farm.dir, 'helper.pid')
  await farm.submit(mayaJob(farm, { name: 'hangs', scenePath: await fakeScene(farm.dir, { mode: 'hang-tree', childPidFile }) }))
  await until(childPidFile)
  const helper = Number(await readFile(childPidFile, 'utf8'))
  const running = await within(FOLLOW_MS, scratchDir, (procs) => procs.length >= 2 && procs.some((proc) => proc.pid === helper))
  t.true(running.procs.every((proc) => proc.state !== 'T'), 'rendering, not stopped')

  node.signal('SIGSTOP')
  const stopped = await within(FOLLOW_MS, scratchDir, (procs) => procs.length >= 2 && procs.every((proc) => proc.state === 'T'))
  t.log(`renderer and helper stopped ${Math.round(stopped.ms)} ms after the node`)
  node.signal('SIGCONT')
  const resumed = await within(FOLLOW_MS, scratchDir, (procs) => procs.length >= 2 && procs.every((proc) => proc.state !== 'T'))
  t.log(`renderer and helper running again ${Math.round(resumed.ms)} ms after the node`)

  node.signal('SIGKILL')
  await node.exited
  const gone = await within(FOLLOW_MS, scratchDir, (procs) => procs.length === 0)
  t.log(`every process of the render gone ${Math.round(gone.ms)} ms after the node's SIGKILL`)
  t.true(gone.ms < FOLLOW_MS)
})

test.serial('a hung renderer fails its block as retryable `timeout` within its limit, and the node renders on', async (t) => {
  const farm = await RenderFarm.create()
  t.teardown(async () => farm.destroy())
  const node = await farm.startNode('render-02', MAYA)
  // 2 frames × 2 s, plus the node's 1 s grace: a 5 s limit.
  const hung = await farm.submit(mayaJob(farm, { name: 'hung', frameEnd: 2, blockSize: 2, scenePath: await fakeScene(farm.dir, { mode: 'hang' }, 'hang.json'), timeoutPerFrameS: 2 }))
  const blockOf = (view: FarmView) => view.jobs.find((job) => job.id === hung.id)?.blocks[0]
  const startedAt = await farm.until((view) => blockOf(view)?.startedAt ?? undefined, 'the hung block rendering')
  const failed = await farm.until((view) => blockOf(view)?.lastFailure ?? undefined, 'the hung block failing')
  const failedAfterMs = Date.now() - startedAt
  t.log(`timed out ${failedAfterMs} ms after it started`)
  t.is(failed.failure, 'retryable')
  t.is(failed.message, 'render timeout: the block ran past its limit of 5s (2 frames × 2s, plus 1s to start) and was stopped')
  t.true(failedAfterMs >= 5_000 && failedAfterMs < 5_000 + FOLLOW_MS + 1_000, `failed ${failedAfterMs} ms after it started`)
  t.true(node.logged('block failed'))

  const next = await farm.submit(mayaJob(farm, { name: 'next', scenePath: await fakeScene(farm.dir, { mode: 'ok' }, 'ok.json') }))
  await farm.until((view) => view.jobs.find((job) => job.id === next.id)?.status === 'DONE' ? true : undefined, 'the next job done by the same node')
  t.is(node.child.exitCode, null, 'the node is up')
})
