/**
 * The renderer slot turns everything that goes wrong in a render into an outcome: an
 * error renderBlock throws (a folder gone, a cgroup that is busy), one thrown before it
 * even starts, and an error nobody handled elsewhere in the process while it renders.
 * Each fails the block as retryable `internal-error`, with the message; the slot stays
 * usable, and nothing reaches the process as an unhandled rejection (which ava would
 * report as a failure of these tests).
 */
import path from 'node:path'
import test from 'ava'
import { createLogger, type LogRecord } from '../../../src/node/log.js'
import type { FaultListener, FaultSource, ProcessFault } from '../../../src/node/runtime/process-guard.js'
import { RendererSlot, type RenderFunction, type RenderOutcome } from '../../../src/node/runtime/renderer-slot.js'
import { renderBlock } from '../../../src/render/index.js'
import type { RenderResult } from '../../../src/render/result.js'
import { isAlive, makeTask, tempDir } from '../../fixtures/render/helpers.js'

const target = { jobId: 'job-1', block: 0, epoch: 1 }

function logged () {
  const records: LogRecord[] = []
  return { records, logger: createLogger('render', { sink: (record) => records.push(record), level: 'debug' }) }
}

/** Starts `slot` on `task` and resolves with the outcome it reports. */
async function outcomeOf (slot: RendererSlot, task: ReturnType<typeof makeTask>): Promise<RenderOutcome> {
  return new Promise((resolve) => { slot.start(target, task, resolve) })
}

function commandTask (dir: string, commandTemplate: string): ReturnType<typeof makeTask> {
  return makeTask({ software: 'command', scenePath: path.join(dir, 'unused'), targetDir: path.join(dir, 'target'), commandTemplate, frames: { start: 1, end: 1 } })
}

const finished: RenderResult = { kind: 'finished', frames: [{ frame: 1, ms: 5 }], wallMs: 5, renderMs: 5, outputs: [], kept: [], replaced: [], warnings: [], outputTail: [] }

test('an error renderBlock throws fails the block as retryable internal-error, and the slot takes the next block', async (t) => {
  const dir = await tempDir(t)
  const { records, logger } = logged()
  const results: (() => Promise<RenderResult>)[] = [
    async () => Promise.reject(Object.assign(new Error('EBUSY: resource busy or locked, rmdir \'/sys/fs/cgroup/cr-job-1-0-1\''), { code: 'EBUSY' })),
    async () => Promise.resolve(finished)
  ]
  const render: RenderFunction = async () => (results.shift() ?? (async () => Promise.reject(new Error('rendered once too often'))))()
  const slot = new RendererSlot({ scratchRoot: dir, logger, render })
  const failed = await outcomeOf(slot, commandTask(dir, 'true'))
  t.like(failed, { kind: 'failed', failure: 'retryable', reason: 'internal-error' })
  t.regex(failed.kind === 'failed' ? failed.message : '', /internal error while rendering block 0: Error: EBUSY: resource busy/)
  t.is(slot.current(), null)
  t.true(records.some((record) => record.level === 'error' && record.fields.block === 'job-1/0@1'), 'logged with the block it was rendering')
  t.like(await outcomeOf(slot, commandTask(dir, 'true')), { kind: 'finished' })
})

test('a render function that throws before it returns a promise is an internal-error too', async (t) => {
  const dir = await tempDir(t)
  const render: RenderFunction = () => { throw new TypeError('Cannot read properties of undefined (reading \'frames\')') }
  const slot = new RendererSlot({ scratchRoot: dir, logger: logged().logger, render })
  t.like(await outcomeOf(slot, commandTask(dir, 'true')), { kind: 'failed', failure: 'retryable', reason: 'internal-error', message: 'internal error while rendering block 0: TypeError: Cannot read properties of undefined (reading \'frames\')' })
})

test('a renderer that removes its own output folder fails the block; it does not take the node down', async (t) => {
  const dir = await tempDir(t)
  const slot = new RendererSlot({ scratchRoot: path.join(dir, 'scratch'), logger: logged().logger })
  const outcome = await outcomeOf(slot, commandTask(dir, 'rm -rf {outdir}'))
  t.like(outcome, { kind: 'failed', failure: 'retryable' })
  t.is(slot.current(), null)
})

/** A fault source the test fires by hand, as the process guard would. */
function faultSource (): FaultSource & { fire: (fault: ProcessFault) => void, readonly listeners: Set<FaultListener> } {
  const listeners = new Set<FaultListener>()
  return {
    listeners,
    onFault: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    fire: (fault) => { for (const listener of listeners) listener(fault) }
  }
}

test('an error nobody handled, while a block renders, stops its renderer and fails it as retryable', async (t) => {
  const dir = await tempDir(t)
  const faults = faultSource()
  let pid: number | undefined
  // The real renderBlock, watched for its renderer's pid.
  const render: RenderFunction = async (task, options) => renderBlock(task, { ...options, onProgress: (progress) => { if (progress.kind === 'started') pid = progress.pid } })
  const slot = new RendererSlot({ scratchRoot: path.join(dir, 'scratch'), logger: logged().logger, faults, render })
  t.is(faults.listeners.size, 0, 'nothing listens while nothing renders')
  const ended = outcomeOf(slot, commandTask(dir, 'sleep 30'))
  while (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
  const startedMs = performance.now()
  faults.fire({ origin: 'unhandledRejection', error: new Error('stray'), summary: 'Error: stray' })
  const outcome = await ended
  t.like(outcome, { kind: 'failed', failure: 'retryable', reason: 'internal-error', message: 'stopped by an error nobody handled in the node (unhandledRejection): Error: stray' })
  t.true(performance.now() - startedMs < 10_000, 'the renderer was stopped, not waited for')
  t.false(await isAlive(pid))
  t.is(faults.listeners.size, 0, 'the slot stopped listening when the render ended')
  t.is(slot.current(), null)
})

test('a render stopped on request reports nothing, and a listener that throws does not keep stop waiting', async (t) => {
  const dir = await tempDir(t)
  const { records, logger } = logged()
  let release: (result: RenderResult) => void = () => undefined
  const render: RenderFunction = async () => new Promise((resolve) => { release = resolve })
  const slot = new RendererSlot({ scratchRoot: dir, logger, render })
  const heard: RenderOutcome[] = []
  slot.start(target, commandTask(dir, 'true'), (outcome) => heard.push(outcome))
  const stopped = slot.stop('lost the lease')
  release({ kind: 'aborted', message: 'lost the lease', wallMs: 1, outputTail: [] })
  await stopped
  t.deepEqual(heard, [])

  slot.start(target, commandTask(dir, 'true'), () => { throw new Error('listener bug') })
  release(finished)
  await slot.settled()
  t.true(records.some((record) => record.msg === 'the outcome of a render was not taken in'))
})
