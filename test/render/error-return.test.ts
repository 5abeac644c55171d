/**
 * The seed's Error Return, through the whole of renderBlock() with a fake renderer that
 * talks like Maya, Nuke or Blender: every way a render can end, classified, with its tail.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { renderBlock } from '../../src/render/render-block.js'
import type { RenderOptions } from '../../src/render/render-block.js'
import type { RenderProgress, RenderResult } from '../../src/render/result.js'
import type { RenderTask } from '../../src/render/task.js'
import type { Software } from '../../src/protocol/vocabulary.js'
import { FAKE_RENDERER, fakeScene, filesUnder, isAlive, makeTask, tempDir } from '../fixtures/render/helpers.js'

interface Run {
  readonly result: RenderResult
  readonly target: string
  readonly scratch: string
  readonly progress: RenderProgress[]
}

async function render(t: ExecutionContext, software: Software, behaviour: Record<string, unknown>, options: RenderOptions = {}, fields: Partial<RenderTask> = {}): Promise<Run> {
  const dir = await tempDir(t)
  const target = path.join(dir, 'target')
  const scratch = path.join(dir, 'scratch')
  const progress: RenderProgress[] = []
  const task = makeTask({
    software,
    scenePath: await fakeScene(dir, behaviour),
    targetDir: target,
    executables: { maya: FAKE_RENDERER, nuke: FAKE_RENDERER, blender: FAKE_RENDERER },
    ...fields
  })
  const result = await renderBlock(task, { scratchRoot: scratch, onProgress: (p) => progress.push(p), ...options })
  return { result, target, scratch, progress }
}

function failure(t: ExecutionContext, result: RenderResult): Extract<RenderResult, { kind: 'failed' }> {
  if (result.kind !== 'failed') t.fail(`expected a failure, got ${JSON.stringify(result)}`)
  return result
}

async function scratchIsClean(t: ExecutionContext, scratch: string): Promise<void> {
  t.deepEqual(await readdir(scratch), [], 'the scratch folder is left empty')
}

test('Maya: a good render lands at the target with per-frame times, and the scratch is gone', async (t) => {
  const run = await render(t, 'maya-software', { mode: 'ok' })
  if (run.result.kind !== 'finished') return t.fail(JSON.stringify(run.result))
  t.deepEqual(await filesUnder(run.target), ['shot_1.iff', 'shot_2.iff', 'shot_3.iff', 'shot_4.iff'])
  t.deepEqual(run.result.outputs, [1, 2, 3, 4].map((f) => path.join(run.target, `shot_${f}.iff`)))
  t.deepEqual(run.result.frames.map((f) => f.frame), [1, 2, 3, 4])
  t.true(run.result.frames.every((f) => f.ms >= 0))
  t.is(await readFile(path.join(run.target, 'shot_3.iff'), 'utf8'), 'frame 3\n')
  t.deepEqual(run.progress.filter((p) => p.kind === 'frame').map((p) => p.frame), [1, 2, 3, 4])
  t.true(run.progress.some((p) => p.kind === 'started'))
  t.true(run.progress.some((p) => p.kind === 'percent' && p.percent === 100))
  await scratchIsClean(t, run.scratch)
})

test('Maya: a license error is fatal and stops the renderer at once', async (t) => {
  const run = await render(t, 'maya-arnold', { mode: 'license' })
  const failed = failure(t, run.result)
  t.is(failed.failure, 'fatal')
  t.is(failed.reason, 'license')
  t.regex(failed.message, /FLEXlm error/)
  t.true(failed.outputTail.some((l) => l.startsWith('FLEXlm error')))
  t.deepEqual(await filesUnder(run.target), [])
  await scratchIsClean(t, run.scratch)
})

test('Maya: `// Error:` on a texture is kept as a warning of a finished block', async (t) => {
  const run = await render(t, 'maya-software', { mode: 'warn' })
  if (run.result.kind !== 'finished') return t.fail(JSON.stringify(run.result))
  t.deepEqual(run.result.warnings, ['// Error: file: /scenes/shot.ma line 12: Cannot find file "tex.png" for file1.'])
})

test('Maya with Arnold: "[mtoa] Failed batch render" fails the block though the exit code is 0', async (t) => {
  const failed = failure(t, (await render(t, 'maya-arnold', { mode: 'failure' })).result)
  t.is(failed.failure, 'retryable')
  t.is(failed.reason, 'renderer-error')
  t.regex(failed.message, /\[mtoa\] Failed batch render \(exit code 0\)/)
})

test('a crash (signal) is retryable and says which signal', async (t) => {
  const run = await render(t, 'maya-software', { mode: 'crash' })
  const failed = failure(t, run.result)
  t.is(failed.failure, 'retryable')
  t.is(failed.reason, 'crash')
  t.regex(failed.message, /SIGSEGV/)
  t.deepEqual(await filesUnder(run.target), [], 'the frame rendered before the crash is not copied')
  await scratchIsClean(t, run.scratch)
})

test('a non-zero exit is retryable, with the output tail', async (t) => {
  const failed = failure(t, (await render(t, 'maya-software', { mode: 'fail' })).result)
  t.is(failed.reason, 'exit-code')
  t.is(failed.failure, 'retryable')
  t.regex(failed.message, /exit code 3/)
  t.is(failed.outputTail.at(-1), 'something went wrong')
})

test('the failure carries the last 100 lines, each clipped', async (t) => {
  const failed = failure(t, (await render(t, 'maya-software', { mode: 'many-lines' })).result)
  t.is(failed.outputTail.length, 100)
  t.is(failed.outputTail[0], `line 401 ${'x'.repeat(10)}`)
  t.is(failed.outputTail.at(-1)?.length, 400)
})

test('a renderer exiting 0 without a frame, or with an empty one, fails on verification', async (t) => {
  const skipped = await render(t, 'blender', { mode: 'skip-frame' })
  const failed = failure(t, skipped.result)
  t.is(failed.reason, 'missing-frames')
  t.is(failed.failure, 'retryable')
  t.regex(failed.message, /frame\(s\) 3 are missing/)
  t.deepEqual(await filesUnder(skipped.target), [], 'a block with a missing frame copies nothing')
  await scratchIsClean(t, skipped.scratch)

  const empty = failure(t, (await render(t, 'blender', { mode: 'empty-frame' })).result)
  t.is(empty.reason, 'missing-frames')
  t.regex(empty.message, /frame\(s\) 2 are missing or empty/)
})

test('Blender: reporting an unreadable scene and rendering on anyway (exit 0) is fatal', async (t) => {
  const run = await render(t, 'blender', { mode: 'scene-error', frameDelayMs: 200 })
  const failed = failure(t, run.result)
  t.is(failed.failure, 'fatal')
  t.is(failed.reason, 'scene-missing')
  t.deepEqual(await filesUnder(run.target), [])
})

test('Blender: an "Error:" line during the render is a retryable renderer error', async (t) => {
  const failed = failure(t, (await render(t, 'blender', { mode: 'failure' })).result)
  t.is(failed.reason, 'renderer-error')
  t.regex(failed.message, /OpenImageDenoiser/)
})

test('Blender: frame times come from its " Time:" lines', async (t) => {
  const run = await render(t, 'blender', { mode: 'ok' })
  if (run.result.kind !== 'finished') return t.fail(JSON.stringify(run.result))
  t.deepEqual(run.result.frames, [1, 2, 3, 4].map((frame) => ({ frame, ms: 1500 })))
  t.deepEqual(await filesUnder(run.target), ['shot_0001.png', 'shot_0002.png', 'shot_0003.png', 'shot_0004.png'])
})

test('Nuke: Write nodes are contained by init.py; ERROR and license lines are classified', async (t) => {
  const ok = await render(t, 'nuke', { mode: 'ok' }, {}, { writeNode: 'Write1' })
  if (ok.result.kind !== 'finished') return t.fail(JSON.stringify(ok.result))
  t.deepEqual(await filesUnder(ok.target), ['shot.0001.exr', 'shot.0002.exr', 'shot.0003.exr', 'shot.0004.exr'])
  t.deepEqual(ok.result.frames.map((f) => f.ms), [250, 250, 250, 250])

  const error = failure(t, (await render(t, 'nuke', { mode: 'failure' })).result)
  t.is(error.reason, 'renderer-error')
  const eddy = failure(t, (await render(t, 'nuke', { mode: 'warn' })).result)
  t.regex(eddy.message, /Eddy\[ERROR\]/)
  const license = failure(t, (await render(t, 'nuke', { mode: 'license' })).result)
  t.is(license.failure, 'fatal')
  t.is(license.reason, 'license')
})

test('a missing scene is fatal before any renderer starts', async (t) => {
  const dir = await tempDir(t)
  const progress: RenderProgress[] = []
  const result = await renderBlock(
    makeTask({ software: 'maya-software', scenePath: path.join(dir, 'nope.ma'), targetDir: path.join(dir, 'target'), executables: { maya: FAKE_RENDERER } }),
    { scratchRoot: path.join(dir, 'scratch'), onProgress: (p) => progress.push(p) }
  )
  const failed = failure(t, result)
  t.is(failed.failure, 'fatal')
  t.is(failed.reason, 'scene-missing')
  t.false(progress.some((p) => p.kind === 'started'))
})

test('a renderer this node does not have is retryable (another node may)', async (t) => {
  const failed = failure(t, (await render(t, 'maya-software', { mode: 'ok' }, {}, { executables: { maya: '/nonexistent/Render' } })).result)
  t.is(failed.failure, 'retryable')
  t.is(failed.reason, 'executable-missing')
})

test('a task that cannot be rendered is a fatal usage error', async (t) => {
  const failed = failure(t, (await render(t, 'maya-software', { mode: 'ok' }, {}, { imageName: '../escape' })).result)
  t.is(failed.failure, 'fatal')
  t.is(failed.reason, 'usage')
})

test('a render past its time limit is stopped and retryable', async (t) => {
  const run = await render(t, 'maya-software', { mode: 'hang' }, {}, { timeout: { perFrameMs: 250, startupMs: 500 } })
  const failed = failure(t, run.result)
  t.is(failed.reason, 'timeout')
  t.is(failed.failure, 'retryable')
  t.is(failed.message, 'render timeout: the block ran past its limit of 1.5s (4 frames × 0.25s, plus 0.5s to start) and was stopped')
  await scratchIsClean(t, run.scratch)
})

test('abort (halt, lost lease) kills the whole process tree and leaves nothing behind', async (t) => {
  const dir = await tempDir(t)
  const childPidFile = path.join(dir, 'child.pid')
  const controller = new AbortController()
  const runPromise = render(t, 'maya-software', { mode: 'hang-tree', childPidFile }, {
    signal: controller.signal,
    onProgress: (p) => {
      if (p.kind === 'frame') controller.abort(new Error('lease lost'))
    }
  })
  const run = await runPromise
  t.is(run.result.kind, 'aborted')
  if (run.result.kind === 'aborted') t.is(run.result.message, 'lease lost')
  const child = Number(await readFile(childPidFile, 'utf8'))
  t.false(await isAlive(child), 'the renderer\'s child died with it')
  t.deepEqual(await filesUnder(run.target), [])
  await scratchIsClean(t, run.scratch)
})

test('a renderer that ignores SIGTERM is killed after the grace period', async (t) => {
  const controller = new AbortController()
  const run = await render(t, 'blender', { mode: 'ignore-term' }, {
    signal: controller.signal,
    // Long enough for a loaded machine to run the renderer's SIGTERM handler (which says it ignores it) before the kill.
    killGraceMs: 2_000,
    onProgress: (p) => {
      if (p.kind === 'frame') controller.abort('halt')
    }
  })
  t.is(run.result.kind, 'aborted')
  t.true(run.result.outputTail.includes('ignoring SIGTERM'))
  await scratchIsClean(t, run.scratch)
})

test('an abort before the start renders nothing', async (t) => {
  const controller = new AbortController()
  controller.abort('shutdown')
  const run = await render(t, 'maya-software', { mode: 'ok' }, { signal: controller.signal })
  t.is(run.result.kind, 'aborted')
  t.false(run.progress.some((p) => p.kind === 'started'))
})
