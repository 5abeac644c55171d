/**
 * The process guard, in a real process: an error nobody handled is logged with its
 * origin, fails the block being rendered as retryable, and the process keeps running.
 * Without the guard, Node would exit on the first of them.
 */
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { execa } from 'execa'
import { tempDir } from '../../fixtures/render/helpers.js'

const FIXTURE = fileURLToPath(new URL('../../fixtures/runtime/faulty-node.ts', import.meta.url))

test('an unhandled rejection and an uncaught exception are logged; the block fails as retryable; the node lives on', async (t) => {
  const dir = await tempDir(t)
  const startedMs = performance.now()
  const run = await execa(process.execPath, ['--import', 'tsx', FIXTURE, dir], { reject: false, timeout: 60_000, env: { CR_LOG_LEVEL: 'info' } })
  t.is(run.exitCode, 0, run.stderr)
  const report = JSON.parse(run.stdout) as { renderingBeforeFault: boolean, outcome: Record<string, unknown> }
  t.true(report.renderingBeforeFault)
  t.like(report.outcome, { kind: 'failed', failure: 'retryable', reason: 'internal-error', message: 'stopped by an error nobody handled in the node (unhandledRejection): Error: stray rejection' })
  t.true(performance.now() - startedMs < 30_000, 'the 30 s renderer was stopped at the fault, not waited for')
  const logged = run.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
  const faults = logged.filter((record) => record.component === 'process' && record.level === 'error')
  t.deepEqual(faults.map((record) => record.origin), ['unhandledRejection', 'uncaughtException'])
  t.regex(JSON.stringify(faults), /stray rejection[\s\S]*stray exception/)
})
